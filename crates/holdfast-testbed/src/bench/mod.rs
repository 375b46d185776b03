//! `holdfast bench`: how fast holdfast is at scale.
//!
//! `seed` builds a synthetic instance straight into the database (bulk path);
//! `run` starts `holdfast serve` on it (or uses `--target`) and drives one
//! scenario open-loop at increasing rates with siege's HTTP client, measuring
//! `/healthz` on the same server in the same run so every result is also a
//! ratio to what this machine can do for a request that does nothing.

pub mod run;
pub mod seed;

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Build a synthetic instance (power-law follow graph, history) in bulk.
    Seed(seed::SeedArgs),
    /// Drive a scenario open-loop at increasing rates against a seeded instance.
    Run(run::RunArgs),
}

pub async fn run(command: BenchCommand) -> Result<(), String> {
    match command {
        BenchCommand::Seed(a) => seed::run(a).await,
        BenchCommand::Run(a) => run::run(a).await,
    }
}
