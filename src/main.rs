use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use engawa::config::Settings;
use engawa::startup::Application;
use engawa::{db, import};

#[derive(Parser)]
#[command(
    name = "engawa",
    version,
    about = "縁側: guides and anonymous stories, served as plain HTML"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the site (applies migrations first).
    Serve {
        /// Fill an empty database with sample content.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Import guides and stories from a JSON Lines file, all or nothing.
    Import { file: PathBuf },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ENGAWA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engawa: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Serve { demo } => serve(settings, demo),
        Command::Migrate => {
            db::connect(&settings.database_url)?;
            println!(
                "migrations are up to date ({})",
                db::redact_url(&settings.database_url)
            );
            Ok(())
        }
        Command::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let pool = db::connect(&settings.database_url)?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            match import::import_str(&mut conn, &text) {
                Ok(added) => {
                    println!(
                        "imported {} guide(s) and {} story(ies) from {}",
                        added.guides,
                        added.stories,
                        file.display()
                    );
                    Ok(())
                }
                Err(import::ImportError::Invalid(lines)) => {
                    for line in &lines {
                        eprintln!("{}:{}", file.display(), line);
                    }
                    anyhow::bail!(
                        "{} has {} invalid line(s); nothing was imported",
                        file.display(),
                        lines.len()
                    )
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let backend = db::Kind::of(&settings.database_url).name();
        let app = Application::build(settings.clone(), demo)?;
        tracing::info!(
            "engawa ready at http://{}:{} ({backend}, data in {})",
            settings
                .bind
                .rsplit_once(':')
                .map_or("127.0.0.1", |(h, _)| h),
            app.port(),
            settings.data_dir.display()
        );
        app.run().await.context("the server stopped with an error")
    })
}
