use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use engawa::config::Settings;
use engawa::domain::{Email, Role};
use engawa::models::user::User;
use engawa::search::{SearchIndex, indexer};
use engawa::startup::Application;
use engawa::{db, import, passwords};

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
    /// Import guides and stories, all or nothing: JSON Lines, or a WordPress export (WXR, .xml).
    Import {
        file: PathBuf,
        /// In a WordPress export, posts in this category become approved stories.
        #[arg(long)]
        stories_category: Option<String>,
    },
    /// Add N synthetic approved stories (natural Japanese, varied lengths and tags), for benchmarks.
    Demo {
        #[arg(long)]
        stories: usize,
        /// The same seed gives the same corpus.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Copy the live SQLite database to DEST, consistently, while the site keeps serving.
    Backup { dest: PathBuf },
    /// Rebuild the search index from the database (stop the server first: it holds the index).
    Reindex,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a staff account. The password is asked for at a terminal, or read as one line
    /// from standard input otherwise.
    Add {
        #[arg(long)]
        email: String,
        /// admin, moderator or editor
        #[arg(long)]
        role: String,
        /// The name shown in the panel and the log; defaults to the address's local part.
        #[arg(long)]
        name: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(engawa::logging::filter(
            std::env::var("ENGAWA_LOG").ok().as_deref(),
        ))
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
    engawa::data_dir::private_from_now_on();
    engawa::data_dir::make_private(&settings.data_dir)?;
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
        Command::Import {
            file,
            stories_category,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let pool = db::connect(&settings.database_url)?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            if text.trim_start().starts_with('<') {
                return import_wordpress(&mut conn, &file, &text, stories_category.as_deref());
            }
            match import::import_str(&mut conn, &text) {
                Ok(added) => {
                    println!(
                        "imported {} guide(s), {} story(ies) and {} synonym group(s) from {}",
                        added.guides,
                        added.stories,
                        added.synonyms,
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
        Command::User {
            command: UserCommand::Add { email, role, name },
        } => add_user(&settings, &email, &role, name.as_deref()),
        Command::Reindex => reindex(&settings),
        Command::Backup { dest } => {
            let started = std::time::Instant::now();
            let pool = db::connect(&settings.database_url)?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            let (stories, guides) = db::backup_sqlite(&mut conn, &dest)?;
            println!(
                "backed up {stories} story(ies) and {guides} guide(s) to {} in {:.1} s",
                dest.display(),
                started.elapsed().as_secs_f64()
            );
            let key = engawa::secrets::SecretKey::back_up(
                settings.secret_key.as_deref(),
                &settings.data_dir,
                &dest,
            )?;
            match key {
                Some(path) => println!(
                    "the secret key is copied to {}: restore it as secret.key in the data directory, or signed links stop working",
                    path.display()
                ),
                None => println!(
                    "the secret key comes from ENGAWA_SECRET_KEY: keep it with the backup, or signed links stop working after a restore"
                ),
            }
            Ok(())
        }
        Command::Demo { stories, seed } => {
            let started = std::time::Instant::now();
            let pool = db::connect(&settings.database_url)?;
            let mut conn = pool.get().context("cannot get a database connection")?;
            let bar = indicatif::ProgressBar::new(stories as u64);
            engawa::demo::synthetic::generate(
                &mut conn,
                stories,
                seed,
                engawa::models::now(),
                &|done| bar.set_position(done as u64),
            )?;
            bar.finish_and_clear();
            println!(
                "added {stories} synthetic stories in {:.1} s; the running server indexes them from the outbox, or run `engawa reindex`",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

fn add_user(
    settings: &Settings,
    email: &str,
    role: &str,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let email = Email::parse_lowercase(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let role = Role::parse(role)
        .map_err(|_| anyhow::anyhow!("--role must be admin, moderator or editor, got {role:?}"))?;
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            email
                .as_ref()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
    let password = read_password()?;
    passwords::check_strength(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = passwords::hash(&password)?;
    let pool = db::connect(&settings.database_url)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    if User::find_by_email(&mut conn, &email)?.is_some() {
        anyhow::bail!(
            "a staff account with the address {} already exists",
            email.as_ref()
        );
    }
    User::create(&mut conn, &email, &name, role, &hash, engawa::models::now())?;
    println!(
        "created {} account {} ({name})",
        role.as_str(),
        email.as_ref()
    );
    Ok(())
}

fn import_wordpress(
    conn: &mut engawa::db::DbConn,
    file: &std::path::Path,
    xml: &str,
    stories_category: Option<&str>,
) -> anyhow::Result<()> {
    let summary = import::wxr::import(conn, xml, stories_category, engawa::models::now())
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    println!(
        "imported {} guide(s) and {} story(ies) from {}; {} old address(es) now redirect; {} comment(s) ignored",
        summary.guides,
        summary.stories,
        file.display(),
        summary.redirects,
        summary.comments_ignored
    );
    if !summary.skipped.is_empty() {
        println!("skipped {}:", summary.skipped.len());
        for (what, why) in &summary.skipped {
            println!("  {what}: {why}");
        }
    }
    Ok(())
}

fn reindex(settings: &Settings) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let pool = db::connect(&settings.database_url)?;
    let dir = settings.data_dir.join("search");
    let (index, _) = SearchIndex::open(&dir)?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} documents ({eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (guides, stories) = indexer::rebuild(&pool, &index, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let size: u64 = std::fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "reindexed {guides} guide(s) and {stories} story(ies) in {:.1} s; index size {:.1} MB at {}",
        started.elapsed().as_secs_f64(),
        size as f64 / 1_048_576.0,
        dir.display()
    );
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
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
        app.run()
            .await
            .context("the server stopped with an error")?;
        // In-flight requests have finished (or the 10-second grace ran out); the indexer and the
        // mailer commit after every step, so nothing is left half-done.
        tracing::info!("engawa stopped");
        Ok(())
    })
}
