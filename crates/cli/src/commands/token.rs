//! `rollgate token create|list|revoke`: API tokens. Through the API with an admin token, or
//! offline, straight on the store with `--data-dir DIR`, `--config FILE` (which names the data
//! directory) or `--etcd URLS` (the shared store of a distributed installation) — the way to
//! bootstrap the first admin token. Offline use is safe while the server runs: SQLite in WAL
//! mode makes writers wait for each other, and etcd writes are transactions.
//!
//! The secret is printed once, alone on stdout (so `TOKEN=$(rollgate token create …)` works);
//! the notice that it will not be shown again goes to stderr.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use rollgate_server::{CreateToken, CreatedToken, Problem, TokenList, TokenView};
use rollgate_store::{Role, SqliteStore, Store, StoreError, TokenRecord};

use crate::Exit;
use crate::client::{
    Client, Palette, ServerArgs, Style, block_on, print_json, print_refusal, segment, table,
};
use crate::output::OutputFormat;

/// Manage API tokens.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
    /// The server, token and output format (ignored offline, except `--output`).
    #[command(flatten)]
    pub server: ServerArgs,
    /// Work offline on the store in this directory (`[control] data_dir`).
    #[arg(long, global = true, conflicts_with = "config")]
    pub data_dir: Option<PathBuf>,
    /// Work offline on the store of this configuration file's `[control] data_dir`.
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// Work offline on the shared store of a distributed installation (`--etcd URLS`), e.g.
    /// to create its first admin token.
    #[command(flatten)]
    pub cluster: crate::commands::distributed::Cluster,
}

/// The token subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create {
        /// A name for people (`ci`, `alice`); decisions made with the token name it. Default:
        /// the role's name.
        #[arg(long)]
        name: Option<String>,
        /// viewer (read), operator (pause, resume, promote, abort, set weight, restore) or
        /// admin (also tokens, versions, rollouts, experiments).
        #[arg(long)]
        role: Role,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name or id; it stops working at once.
    Revoke {
        /// The token's name or id (`tok_…`).
        token: String,
    },
}

/// The store file inside the data directory: the same path `rollgate serve` opens.
pub fn store_path(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join(crate::commands::control::STORE_FILE)
}

/// Runs the subcommand, offline or through the API.
pub fn run(args: Args) -> Result<Exit> {
    let output = args.server.output;
    if let Some((etcd, keys)) = args.cluster.connect()? {
        let store: Arc<dyn Store> = Arc::new(rollgate_etcd::EtcdStore::new(etcd, keys.prefix()));
        return block_on(offline(args.command, store, output))?;
    }
    match offline_dir(&args)? {
        Some(dir) => block_on(offline_sqlite(args.command, &dir, output))?,
        None => {
            let client = Client::new(&args.server)?;
            block_on(online(args.command, &client, output))?
        }
    }
}

fn offline_dir(args: &Args) -> Result<Option<PathBuf>> {
    if let Some(dir) = &args.data_dir {
        return Ok(Some(dir.clone()));
    }
    let Some(path) = &args.config else {
        return Ok(None);
    };
    let config = rollgate_config::load(path).map_err(|e| anyhow!("{e}"))?;
    Ok(Some(config.control.data_dir))
}

async fn offline_sqlite(
    command: TokenCommand,
    dir: &std::path::Path,
    output: OutputFormat,
) -> Result<Exit> {
    let path = store_path(dir);
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&path)
            .with_context(|| format!("cannot open the store {}", path.display()))?,
    );
    offline(command, store, output).await
}

/// The subcommand straight on a store, without the API.
async fn offline(
    command: TokenCommand,
    store: Arc<dyn Store>,
    output: OutputFormat,
) -> Result<Exit> {
    match command {
        TokenCommand::Create { name, role } => {
            let name = name.unwrap_or_else(|| role.as_str().to_owned());
            let (record, secret) = match store.create_token(&name, role, now_millis()).await {
                Ok(created) => created,
                Err(e) => return refused(e, output),
            };
            print_created(
                &CreatedToken {
                    token: TokenView::from(&record),
                    secret: secret.expose().to_owned(),
                },
                output,
            )?;
        }
        TokenCommand::List => {
            let tokens = store.list_tokens().await?;
            print_list(
                &tokens.iter().map(TokenView::from).collect::<Vec<_>>(),
                output,
            )?;
        }
        TokenCommand::Revoke { token } => {
            let record: TokenRecord = match store.revoke_token(&token, now_millis()).await {
                Ok(r) => r,
                Err(e) => return refused(e, output),
            };
            print_revoked(&TokenView::from(&record), output)?;
        }
    }
    Ok(Exit::Success)
}

async fn online(command: TokenCommand, client: &Client, output: OutputFormat) -> Result<Exit> {
    match command {
        TokenCommand::Create { name, role } => {
            let name = name.unwrap_or_else(|| role.as_str().to_owned());
            let body = CreateToken { name, role };
            match client
                .post::<_, CreatedToken>("/api/v1/tokens", &body)
                .await?
                .or_refused(output)
            {
                Ok(created) => print_created(&created, output)?,
                Err(exit) => return Ok(exit),
            }
        }
        TokenCommand::List => match client
            .get::<TokenList>("/api/v1/tokens")
            .await?
            .or_refused(output)
        {
            Ok(list) => print_list(&list.tokens, output)?,
            Err(exit) => return Ok(exit),
        },
        TokenCommand::Revoke { token } => {
            let path = format!("/api/v1/tokens/{}", segment(&token));
            match client.delete::<TokenView>(&path).await?.or_refused(output) {
                Ok(view) => print_revoked(&view, output)?,
                Err(exit) => return Ok(exit),
            }
        }
    }
    Ok(Exit::Success)
}

/// A store refusal (a name taken, no such token, an empty name) is a refusal like the
/// server's (exit 1); anything else is an error (exit 2).
fn refused(e: StoreError, output: OutputFormat) -> Result<Exit> {
    match Problem::from(e) {
        p if p.status < 500 => {
            print_refusal(&p, output);
            Ok(Exit::Failure)
        }
        p => Err(anyhow!("{}", p.detail)),
    }
}

fn print_created(created: &CreatedToken, output: OutputFormat) -> Result<()> {
    match output {
        OutputFormat::Json => print_json(created)?,
        OutputFormat::Text => {
            let t = &created.token;
            eprintln!("created token {:?} ({}, role {})", t.name, t.id, t.role);
            println!("{}", created.secret);
            eprintln!("warning: this secret is shown once and cannot be recovered; store it now");
        }
    }
    Ok(())
}

fn print_list(tokens: &[TokenView], output: OutputFormat) -> Result<()> {
    if output == OutputFormat::Json {
        return print_json(&TokenList {
            tokens: tokens.to_vec(),
        });
    }
    let palette = Palette::detect();
    let mut t = table(&["NAME", "ID", "ROLE", "CREATED", "STATUS"], palette);
    for token in tokens {
        let status = match token.revoked_at {
            Some(at) => palette.cell(format!("revoked {}", crate::client::time(at)), Style::Dim),
            None => palette.cell("active", Style::Good),
        };
        t.add_row(vec![
            palette.cell(&token.name, Style::Plain),
            palette.cell(&token.id, Style::Dim),
            palette.cell(token.role, Style::Plain),
            palette.cell(crate::client::time(token.created_at), Style::Plain),
            status,
        ]);
    }
    println!("{t}");
    Ok(())
}

fn print_revoked(token: &TokenView, output: OutputFormat) -> Result<()> {
    match output {
        OutputFormat::Json => print_json(token),
        OutputFormat::Text => {
            println!(
                "revoked token {:?} ({}, role {})",
                token.name, token.id, token.role
            );
            Ok(())
        }
    }
}

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
