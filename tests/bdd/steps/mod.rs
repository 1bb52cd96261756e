mod audit;
mod configuration;
mod suite;
