mod configuration;
mod suite;
