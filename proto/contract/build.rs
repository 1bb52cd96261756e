//! Compiles `proto/sentinel/**/*.proto` with protox (pure Rust), so a machine with only the
//! Rust toolchain can build Sentinel: no system `protoc` is needed.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = proto_files(&proto_root.join("sentinel"))?;
    // tonic-prost-build's own rerun-if-changed does nothing when handed a descriptor set.
    println!(
        "cargo:rerun-if-changed={}",
        proto_root.join("sentinel").display()
    );
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("sentinel_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::codec::StrictCodec")
        .compile_fds(descriptors)?;
    Ok(())
}

/// Every `.proto` below `dir`, sorted so the build is reproducible.
fn proto_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(proto_files(&path)?);
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
