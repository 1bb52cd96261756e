mod audit;
mod configuration;
mod ingestion;
mod registry;
mod suite;
