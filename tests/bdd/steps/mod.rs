mod audit;
mod configuration;
mod ingestion;
mod ingestion_flow;
mod payloads;
mod registry;
mod rules;
mod suite;
