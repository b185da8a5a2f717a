//! What the integration tests share: a private socket directory per test, servers of each
//! provider (the lend provider skipped only when the library says it is not supported),
//! and session pairs inside one process (the client connects from a thread, since the
//! handshake needs both sides running).
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shmipc::{ClientOptions, ErrorKind, Provider, Server, ServerOptions, Session};

pub const PROVIDERS: [Provider; 2] = [Provider::Shared, Provider::Lend];
pub const WAIT: Option<Duration> = Some(Duration::from_secs(20));

/// A fresh socket directory; `finish` checks that nothing was left in it and removes it.
pub struct SocketDir {
    path: PathBuf,
}

impl SocketDir {
    pub fn new(test: &str) -> SocketDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "shmipc-rs-{test}-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).expect("a fresh socket directory");
        SocketDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn server_options(&self) -> ServerOptions {
        ServerOptions::new().socket_dir(&self.path)
    }

    pub fn client_options(&self) -> ClientOptions {
        ClientOptions::new().socket_dir(&self.path).timeout(WAIT)
    }

    /// A server of `provider`, or None (with the reason on stderr) when the library does not
    /// support that provider — the only case where a provider's test is skipped.
    pub fn server(&self, name: &str, provider: Provider) -> Option<Server> {
        match Server::open(name, &self.server_options().provider(provider)) {
            Ok(server) => Some(server),
            Err(e) if e.kind() == ErrorKind::NotSupported => {
                eprintln!("skipped: provider {provider:?}: the server says {e}");
                None
            }
            Err(e) => panic!("server {name} ({provider:?}): {e}"),
        }
    }

    /// Assert the directory is empty (the servers removed their sockets); dropping it then
    /// removes it.
    pub fn finish(self) {
        let left: Vec<_> = std::fs::read_dir(&self.path)
            .expect("the socket directory is readable")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        assert!(left.is_empty(), "left in the socket directory: {left:?}");
    }
}

impl Drop for SocketDir {
    /// Also after a failed test, whose panic skipped `finish`.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Run `body` with a server of each provider in a fresh socket directory (a provider is
/// skipped only when the library does not support it), then check the directory was left
/// empty. `body` gets the provider, the server, the directory and the server's name.
pub fn with_each_provider(test: &str, mut body: impl FnMut(Provider, &Server, &SocketDir, &str)) {
    let dir = SocketDir::new(test);
    for provider in PROVIDERS {
        let name = unique(&format!("{test}-{provider:?}"));
        if let Some(server) = dir.server(&name, provider) {
            body(provider, &server, &dir, &name);
        }
    }
    dir.finish();
}

/// A session pair in this process: (server side, client side).
pub fn pair(server: &Server, dir: &SocketDir, name: &str, app: &str) -> (Session, Session) {
    let options = dir.client_options();
    let (name, app) = (name.to_owned(), app.to_owned());
    let client = std::thread::spawn(move || Session::connect(&name, &app, &options));
    let server_side = server.accept(WAIT).expect("accept");
    let client_side = client
        .join()
        .expect("the connecting thread")
        .expect("connect");
    (server_side, client_side)
}

/// A server name unique to this test process.
pub fn unique(name: &str) -> String {
    format!("rs-{name}-{}", std::process::id())
}

/// Bytes of the arena in use.
pub fn used(arena: &shmipc::Arena) -> usize {
    arena.stats().expect("arena stats").used
}

/// Byte i of a pattern of n bytes (the echo roles' pattern).
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 13 + n) as u8).collect()
}
