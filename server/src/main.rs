//! `candela`: serve charts of OHLCV parquet data, import bars from CSV,
//! write the sample data, or run a process of a Ballista cluster for SQL.

// The doc comments of the command line are its `--help` text, read in a
// terminal, where `<PROVIDER>` is a placeholder and not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use candela_backtest::RunsFolder;
use candela_cluster::process::ExecutorPorts;
use candela_cluster::{Ballista, SchedulerUrl};
use candela_core::indicator::Registry;
use candela_core::storage::StorageUrl;
use candela_core::{Engine, Store, SymbolId, Timeframe};
use candela_plugins::PluginFolder;
use candela_plugins::folder::FolderError;
use candela_server::auth::gate::Gate;
use candela_server::auth::tokens::TokenSet;
use candela_server::config::{
    Config, ConfigError, DEFAULT_PLUGINS, DEFAULT_RUNS, ProviderConfig, SqlEngine,
};
use candela_server::import::{Owner, Request};
use candela_server::live::Live;
use candela_server::state::{AppState, sql_catalog};
use candela_sql::SqlCatalog;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Loads allocate and free buffers of many megabytes; mimalloc reuses them
/// instead of returning them to the kernel and faulting them back in.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Charting server for OHLCV bars stored as parquet files.
///
/// With no arguments, serves the bundled sample data on http://127.0.0.1:5000.
/// Settings come from candela.toml in the working directory (or --config),
/// overridden by the flags below.
#[derive(Debug, Parser)]
#[command(name = "candela", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Configuration file [default: ./candela.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data root holding <PROVIDER>/<SYMBOL>/<TIMEFRAME>/*.parquet: a folder, or s3://BUCKET/PREFIX (gs://, az://, file://)
    #[arg(long, global = true, value_name = "DIR|URL")]
    data: Option<StorageUrl>,
    /// Address to listen on [default: 127.0.0.1:5000]
    #[arg(long, value_name = "ADDR")]
    bind: Option<std::net::SocketAddr>,
    /// Time zone of a provider's naive timestamps and calendar bins, e.g. ALPACA=America/New_York (repeatable)
    #[arg(long = "timezone", value_name = "PROVIDER=ZONE", value_parser = parse_provider_zone)]
    timezones: Vec<(String, String)>,
    /// Memory bound of the bar cache, in MiB; 0 caches nothing [default: 512]
    #[arg(long, value_name = "MIB")]
    cache_mb: Option<u64>,
    /// Folder of indicator plugins (.wasm), watched while serving [default: ./plugins.d]
    #[arg(long, value_name = "DIR")]
    plugins: Option<PathBuf>,
    /// Backtest runs, one subfolder each, watched while serving: a folder, or s3://BUCKET/PREFIX (gs://, az://, file://) [default: ./runs]
    #[arg(long, global = true, value_name = "DIR|URL")]
    runs: Option<StorageUrl>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key [config: tls.cert]
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM) [config: tls.key]
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Serve without sign-in even on an address other than loopback (anyone who reaches it reads everything)
    #[arg(long)]
    no_auth: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API and web UI (the default)
    Serve,
    /// Write the deterministic sample data set (EXPE 1m, NFLX 1h, AAPL 1d) into the data root, and sample backtest runs on NFLX into the runs folder
    SampleData {
        /// Also write SYNTH:LONG, this many one-minute bars around the clock,
        /// and a run of 10,000 trades over them, to try long histories in the
        /// chart (e.g. --long 1000000)
        #[arg(long, value_name = "BARS", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
        long: Option<u64>,
    },
    /// Write bars from CSV files (brokers' and vendors' exports) into the data root
    ///
    /// The time column and its format or unit are told from the file (Unix
    /// times in any unit, dates, date-times with or without an offset, a date
    /// and a time in two columns), and so is the timeframe, from the bars'
    /// spacing. Times without an offset are stored as such and read in the
    /// provider's zone, as every naive time is. Each file becomes
    /// <data>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/<file name>.parquet.
    ///
    /// Examples:
    ///   candela import nflx.csv --symbol ALPACA:NFLX --timeframe 1m
    ///   candela import exports/ --provider ALPACA     (NFLX.csv is ALPACA:NFLX, …)
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Make, list and revoke the tokens that sign in to the server
    ///
    /// A token is printed once, when it is made; the tokens file
    /// (auth.tokens_file, ./candela-tokens.toml by default) keeps its name,
    /// its SHA-256 and when it was made. Scripts send it as
    /// `Authorization: Bearer TOKEN`; the browser asks for it once.
    ///
    /// Examples:
    ///   candela token new ci
    ///   candela token list
    ///   candela token revoke ci
    #[command(verbatim_doc_comment, subcommand)]
    Token(TokenCommand),
    /// Run the Ballista scheduler of a cluster that runs the servers' SQL
    ///
    /// Executors (`candela executor`) register with it; servers send it their
    /// queries with sql.engine = "ballista" and sql.scheduler =
    /// "df://HOST:PORT". It plans with the same data root, runs, plugins and
    /// candela.toml as the servers, so give it the same --config.
    ///
    /// Example:
    ///   candela scheduler --bind 0.0.0.0:50050
    #[command(verbatim_doc_comment)]
    Scheduler {
        /// Address of its gRPC service
        #[arg(long = "bind", value_name = "ADDR", default_value = "127.0.0.1:50050")]
        listen: std::net::SocketAddr,
    },
    /// Run a Ballista executor: the tasks of the servers' SQL, for a scheduler
    ///
    /// It reads the bars itself, from the same data root as the servers
    /// (a bucket, or a shared folder), with sql.threads task slots and
    /// sql.memory_limit_mb for each query's operators.
    ///
    /// Example:
    ///   candela executor --scheduler df://scheduler:50050 --bind 0.0.0.0:50051
    #[command(verbatim_doc_comment)]
    Executor {
        /// The scheduler, df://HOST:PORT
        #[arg(long, value_name = "URL")]
        scheduler: SchedulerUrl,
        /// Address of its Arrow Flight service, which serves results and shuffles
        #[arg(long = "bind", value_name = "ADDR", default_value = "127.0.0.1:50051")]
        listen: std::net::SocketAddr,
        /// Port of its gRPC service, on the same address
        #[arg(long, value_name = "PORT", default_value_t = 50052)]
        grpc_port: u16,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Make a token named NAME (who or what uses it) and print it, once
    New {
        /// 1 to 64 letters, digits, '.', '_' or '-', e.g. ci or alice
        name: String,
    },
    /// List the tokens by name and creation time
    List,
    /// Remove the token named NAME: it stops working within 2 s on a running server
    Revoke { name: String },
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// CSV files, or folders of them (*.csv, *.txt, *.tsv)
    #[arg(required = true, value_name = "CSV")]
    inputs: Vec<PathBuf>,
    /// The symbol every input holds
    #[arg(long, value_name = "PROVIDER:SYMBOL", value_parser = candela_server::import::parse_symbol, required_unless_present = "provider", conflicts_with = "provider")]
    symbol: Option<SymbolId>,
    /// One file per symbol: each file's name (without its ending) is the symbol
    #[arg(long, value_name = "PROVIDER")]
    provider: Option<String>,
    /// Bar length, e.g. 1m, 1h, 1d [default: told from the spacing of the times]
    #[arg(long, value_name = "TF")]
    timeframe: Option<Timeframe>,
    /// The times' format as a strftime pattern, e.g. '%d/%m/%Y %H:%M' [default: told from the values]
    #[arg(long, value_name = "PATTERN")]
    time_format: Option<String>,
    /// The times are the bars' end times (as in backtrader's intraday files): shift them back one bar
    #[arg(long)]
    end_times: bool,
    /// Overwrite files imported before; with --append, replace the series' bars from the first new one on
    #[arg(long)]
    replace: bool,
    /// Add the bars after the series' last bar, as a new part file (written, then renamed into place), which a running server reads alone
    #[arg(long, requires = "symbol")]
    append: bool,
}

fn parse_provider_zone(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(p, z)| (p.to_owned(), z.to_owned()))
        .ok_or_else(|| {
            format!("expected PROVIDER=ZONE, e.g. ALPACA=America/New_York, got '{text}'")
        })
}

impl Cli {
    fn config(&self) -> Result<Config, Box<dyn std::error::Error>> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(data) = &self.data {
            config.data.clone_from(data);
        }
        if let Some(bind) = self.bind {
            config.bind = bind;
        }
        if let Some(cache_mb) = self.cache_mb {
            config.cache_mb = cache_mb;
        }
        if let Some(plugins) = &self.plugins {
            config.plugins.clone_from(plugins);
        }
        if let Some(runs) = &self.runs {
            config.runs.clone_from(runs);
        }
        if let Some(cert) = &self.tls_cert {
            config.tls.cert = Some(cert.clone());
        }
        if let Some(key) = &self.tls_key {
            config.tls.key = Some(key.clone());
        }
        for (provider, timezone) in &self.timezones {
            config.providers.insert(
                provider.clone(),
                ProviderConfig {
                    timezone: timezone.clone(),
                },
            );
        }
        Ok(config)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::SampleData { long }) => sample_data(&cli, long),
        Some(Command::Import(ref args)) => import(&cli, args),
        Some(Command::Token(ref command)) => token(&cli, command),
        Some(Command::Scheduler { listen }) => scheduler(&cli, listen),
        Some(Command::Executor {
            ref scheduler,
            listen,
            grpc_port,
        }) => executor(&cli, scheduler.clone(), listen, grpc_port),
        None | Some(Command::Serve) => serve(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn sample_data(cli: &Cli, long: Option<u64>) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config()?;
    let long = long.map(usize::try_from).transpose()?;
    let data = config.data_folder("candela sample-data")?;
    let files = candela_server::sample_data::write(data, long)?;
    let runs = config.runs_folder("candela sample-data")?;
    candela_server::sample_runs::write(runs)?;
    if let Some(minutes) = long {
        candela_server::sample_runs::write_long(runs, minutes)?;
    }
    println!("wrote {} files under {}", files.len(), data.display());
    Ok(())
}

/// Sign-in is asked for on an address other than loopback (or everywhere
/// with `auth.always`), unless `--no-auth`.
/// The sign-in gate, if this server needs one. Its cookie is `Secure` when
/// browsers come over HTTPS: served here (`tls`) or by a proxy in front.
fn gate(
    config: &Config,
    tls: bool,
    no_auth: bool,
) -> Result<Option<Gate>, Box<dyn std::error::Error>> {
    let exposed: Vec<SocketAddr> = std::iter::once(config.bind)
        .chain(config.sql.flight_bind)
        .filter(|address| !address.ip().is_loopback())
        .collect();
    if no_auth {
        for address in &exposed {
            tracing::warn!(
                "serving {address} without sign-in (--no-auth): anyone who reaches this address reads every series and run and runs SQL"
            );
        }
        return Ok(None);
    }
    let exposed = !exposed.is_empty();
    if !exposed && !config.auth.always {
        return Ok(None);
    }
    let hours = config.auth.session_hours;
    if hours == 0 {
        return Err(ConfigError::Zero {
            what: "auth.session_hours",
        }
        .into());
    }
    let path = &config.auth.tokens_file;
    let session = Duration::from_secs(hours.saturating_mul(3600));
    let gate = Gate::open(path, session, tls || config.auth.secure_cookies)?;
    tracing::info!(tokens_file = %path.display(), "sign-in is on: a token of the tokens file, or a session of {hours} h");
    Ok(Some(gate))
}

fn token(cli: &Cli, command: &TokenCommand) -> Result<(), Box<dyn std::error::Error>> {
    let path = cli.config()?.auth.tokens_file;
    match command {
        TokenCommand::New { name } => {
            let token = TokenSet::create(&path, name, chrono::Utc::now())?;
            println!("{token}");
            eprintln!(
                "token '{name}' added to {}; it is shown this once: keep it where its user keeps secrets",
                path.display()
            );
        }
        TokenCommand::List => {
            let set = TokenSet::read(&path)?;
            if set.tokens.is_empty() {
                eprintln!(
                    "no tokens in {}; make one with: candela token new NAME",
                    path.display()
                );
            }
            for entry in &set.tokens {
                println!("{}\t{}", entry.name, entry.created);
            }
        }
        TokenCommand::Revoke { name } => {
            TokenSet::revoke(&path, name)?;
            eprintln!("token '{name}' removed from {}", path.display());
        }
    }
    Ok(())
}

fn import(cli: &Cli, args: &ImportArgs) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config()?;
    let root = config.data_folder("candela import")?.to_owned();
    let store = config.store()?;
    let owner = match (&args.symbol, &args.provider) {
        (Some(symbol), _) => Owner::Symbol(symbol.clone()),
        (None, Some(provider)) => Owner::Provider(provider.clone()),
        (None, None) => {
            return Err(
                "name the symbol with --symbol PROVIDER:SYMBOL, or the provider with --provider"
                    .into(),
            );
        }
    };
    let request = Request {
        inputs: args.inputs.clone(),
        owner,
        timeframe: args.timeframe,
        time_format: args.time_format.clone(),
        end_times: args.end_times,
        replace: args.replace,
        append: args.append,
        root,
    };
    let zone = |provider: &str| {
        store
            .zones
            .get(provider)
            .copied()
            .unwrap_or(store.default_zone)
    };
    match candela_server::import::run(&request, &zone)? {
        0 => Ok(()),
        failed => Err(format!("{failed} file(s) could not be imported").into()),
    }
}

fn serve(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config()?;
    let store =
        Store::open(config.store()?).map_err(|e| format!("data root {}: {e}", config.data))?;
    let symbols = store.catalog().symbols().count();
    let engine = Arc::new(Engine::new(Arc::new(store), config.query_threads)?);
    let indicators = Arc::new(candela_indicators::registry());
    let runs = watch_runs(&config, engine.store())?;
    let live = Live::follow(Arc::clone(engine.store()), config.live()?)?;
    let limits = config.sql_limits()?;
    let state = AppState::new(engine, Arc::clone(&indicators), limits.clone(), runs)?
        .with_limits(config.data_limits()?, config.http_policy()?)
        .with_live(live.clone());
    let state = match config.sql_engine()? {
        SqlEngine::Local => state,
        SqlEngine::Standalone => {
            let cluster = Ballista::standalone(state.sql.catalog().clone(), &limits)?;
            state.with_sql_on(Arc::new(cluster))?
        }
        SqlEngine::Cluster(scheduler) => {
            tracing::info!("SQL runs on the Ballista cluster of {scheduler}");
            let cluster = Ballista::connect(scheduler, state.sql.catalog().clone());
            state.with_sql_on(Arc::new(cluster))?
        }
    };
    let tls = config.tls()?;
    let state = match gate(&config, tls.is_some(), cli.no_auth)? {
        Some(gate) => state.with_gate(gate),
        None => state,
    };
    let connections = config.connection_limits()?;
    // Watches the folder for as long as the server runs.
    let _plugins = watch_plugins(&config, &indicators)?;
    // Indicators and the encoding of answers run on the blocking pool: as
    // many threads as cores, not the hundreds tokio would grow it to.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(config.api.work_threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}; choose another address with --bind", config.bind))?;
        let (stop_flight, flight) = serve_flight(&config, &state).await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(data = %config.data, symbols, indicators = indicators.list().len(), "serving {scheme}://{}", listener.local_addr()?);
        let app = candela_server::app::router(state);
        // Streams end as the server stops, rather than hold the shutdown for its grace.
        let stopping = async move {
            shutdown_signal().await;
            live.close();
        };
        candela_server::serve::serve(listener, app, connections, tls, stopping).await;
        drop(stop_flight);
        if let Some(flight) = flight {
            match flight.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("Flight SQL stopped with an error: {e}"),
                Err(e) => tracing::error!("Flight SQL crashed: {e}"),
            }
        }
        tracing::info!("stopped");
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}

/// Flight SQL on `sql.flight_bind`, if set, until the sender returned is
/// dropped; sign-in as the HTTP API's.
async fn serve_flight(
    config: &Config,
    state: &AppState,
) -> Result<
    (
        tokio::sync::oneshot::Sender<()>,
        Option<tokio::task::JoinHandle<Result<(), candela_flight::ServeError>>>,
    ),
    Box<dyn std::error::Error>,
> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let Some(address) = config.sql.flight_bind else {
        return Ok((stop, None));
    };
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        format!("cannot serve Flight SQL on {address}: {e}; choose another sql.flight_bind")
    })?;
    let flight = candela_flight::FlightSql::new(Arc::clone(&state.sql))?;
    let tokens = state
        .gate
        .clone()
        .map(|gate| gate as Arc<dyn candela_flight::Tokens>);
    tracing::info!(
        signed_in = tokens.is_some(),
        "serving Flight SQL on grpc://{}",
        listener.local_addr()?
    );
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(candela_flight::serve(listener, flight, tokens, shutdown));
    Ok((stop, Some(task)))
}

/// The watched plugin folder. A folder the user chose must work; the default
/// one (`./plugins.d`) only disables plugins, with a warning, when it cannot
/// be used (a read-only working directory, or a data root of `.`).
fn watch_plugins(
    config: &Config,
    indicators: &Arc<Registry>,
) -> Result<Option<PluginFolder>, Box<dyn std::error::Error>> {
    let chosen = config.plugins != Path::new(DEFAULT_PLUGINS);
    let disabled = |e: &dyn std::fmt::Display| {
        tracing::warn!("plugins disabled: {e}; choose a plugin folder with --plugins DIR");
    };
    let folder = match config.plugin_folder() {
        Ok(folder) => folder,
        Err(e @ ConfigError::PluginsInData { .. }) if !chosen => {
            disabled(&e);
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    match PluginFolder::open(folder, Arc::clone(indicators)) {
        Ok(folder) => Ok(Some(folder)),
        Err(e @ FolderError::Folder { .. }) if !chosen => {
            disabled(&e);
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The watched runs folder. A folder the user chose must work; the default
/// one (`./runs`) only disables runs, with a warning, when it cannot be used.
fn watch_runs(
    config: &Config,
    store: &Arc<Store>,
) -> Result<Option<Arc<RunsFolder>>, Box<dyn std::error::Error>> {
    let default = matches!(&config.runs, StorageUrl::Folder(dir) if dir == Path::new(DEFAULT_RUNS));
    match RunsFolder::open(config.runs_root()?, Arc::clone(store), config.run_limits()) {
        Ok(folder) => Ok(Some(Arc::new(folder))),
        Err(e @ candela_backtest::FolderError::Folder { .. }) if default => {
            tracing::warn!("backtest runs disabled: {e}; choose a runs folder with --runs DIR");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// What a process of the cluster plans and runs SQL over, as a server
/// with the same configuration would, and the plugin folder it watches.
fn cluster_catalog(
    config: &Config,
) -> Result<(SqlCatalog, Option<PluginFolder>), Box<dyn std::error::Error>> {
    let store = Arc::new(
        Store::open(config.store()?).map_err(|e| format!("data root {}: {e}", config.data))?,
    );
    let indicators = Arc::new(candela_indicators::registry());
    let plugins = watch_plugins(config, &indicators)?;
    let runs = watch_runs(config, &store)?;
    Ok((sql_catalog(&store, &indicators, runs.as_ref()), plugins))
}

fn scheduler(cli: &Cli, listen: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config()?;
    let limits = config.sql_limits()?;
    let (catalog, _plugins) = cluster_catalog(&config)?;
    tokio::runtime::Runtime::new()?.block_on(async {
        tokio::select! {
            served = candela_cluster::process::scheduler(listen, catalog, limits) => served?,
            () = shutdown_signal() => {}
        }
        Ok(())
    })
}

fn executor(
    cli: &Cli,
    scheduler: SchedulerUrl,
    listen: std::net::SocketAddr,
    grpc_port: u16,
) -> Result<(), Box<dyn std::error::Error>> {
    let config = cli.config()?;
    let limits = config.sql_limits()?;
    let (catalog, _plugins) = cluster_catalog(&config)?;
    let ports = ExecutorPorts {
        bind: listen,
        grpc_port,
    };
    tokio::runtime::Runtime::new()?.block_on(async {
        candela_cluster::process::executor(scheduler, ports, catalog, limits).await?;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM, letting requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
