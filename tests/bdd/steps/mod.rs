mod audit;
mod configuration;
mod registry;
mod suite;
