//! demo_client — a client of the cross-language demo (examples/README.md, "The demo"), in
//! Rust.
//!
//! Borrows the server's catalogue and walks it in place (the C header's structs through
//! bindgen), answers with the records reversed in an object of its own; borrows the frames
//! and sums each one through a `&[f32]` over the server's memory (no copy), answers with the
//! sums; then receives the same frames through a plain Unix socket and sums them again, to
//! compare.
//!
//!   demo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]
//!
//! Exit status: 0 all checks passed, 2 a borrowed object did not match its message,
//! 3 could not connect, 4 a protocol or session error.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::Duration;

use shmipc::{ClientOptions, Object, ReadOnly, Session};
use shmipc_examples::catalog;
use shmipc_examples::demo::{self, now_ns, FRAME_FLOATS, MSG_MAX};
use shmipc_examples::options;

/// Why the client stops: a check (exit 2) or the protocol or session (exit 4).
enum Failure {
    Check(String),
    Protocol(String),
}

impl From<shmipc::Error> for Failure {
    fn from(e: shmipc::Error) -> Failure {
        Failure::Protocol(format!("{} ({})", e.message(), e.detail()))
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Protocol(format!("the copy socket: {e}"))
    }
}

struct Client {
    session: Session,
    timeout: Option<Duration>,
}

impl Client {
    /// The next message: its words after `word`, and its object, which must come if
    /// `with_object` and must not otherwise.
    fn expect(
        &self,
        word: &str,
        with_object: bool,
    ) -> Result<(Vec<String>, Option<Object<ReadOnly>>), Failure> {
        let mut buf = [0u8; MSG_MAX];
        let msg = self.session.recv(&mut buf, self.timeout)?;
        let text = String::from_utf8_lossy(&buf[..msg.len]).into_owned();
        let mut words = text.split(' ').map(str::to_owned);
        if words.next().as_deref() != Some(word) || msg.object.is_some() != with_object {
            return Err(Failure::Protocol(format!("unexpected message '{text}'")));
        }
        Ok((words.collect(), msg.object))
    }

    /// Walk the server's catalogue in place; answer with its records reversed.
    fn answer_catalog(&self) -> Result<(), Failure> {
        let (words, theirs) = self.expect("catalog", true)?;
        let (count, digest) = match words.as_slice() {
            [n, h] => (n.parse::<u32>().ok(), u64::from_str_radix(h, 16).ok()),
            _ => (None, None),
        };
        let (Some(count), Some(digest)) = (count, digest) else {
            return Err(Failure::Protocol(format!(
                "bad catalogue message {words:?}"
            )));
        };
        if catalog::digest(&theirs.unwrap()) != Some((digest, u64::from(count))) {
            return Err(Failure::Check(
                "the catalogue does not match its digest".into(),
            ));
        }
        let mut mine = self.session.arena().new_object(catalog::size(count))?;
        let built = catalog::build(&mut mine, count, true).and_then(|()| catalog::digest(&mine));
        let Some((digest, _)) = built else {
            return Err(Failure::Protocol("cannot build our catalogue".into()));
        };
        let msg = format!("catalog {count} {digest:016x}");
        Ok(self
            .session
            .send_with(msg.as_bytes(), &mine.into_read_only())?)
    }

    /// Sum each frame where it lies, in the server's memory; answer with the sums. The
    /// frames' size in bytes.
    fn answer_frames(&self) -> Result<usize, Failure> {
        let (words, frames) = self.expect("frames", true)?;
        let received = now_ns();
        let (nframes, sent) = match words.as_slice() {
            [n, t] => (n.parse::<usize>().ok(), t.parse::<u64>().ok()),
            _ => (None, None),
        };
        let (Some(nframes), Some(sent)) = (nframes, sent) else {
            return Err(Failure::Protocol(format!("bad frames message {words:?}")));
        };
        let frames = frames.unwrap();
        let values = nframes * FRAME_FLOATS;
        let Ok(floats) = frames.view_slice::<f32>(0, values) else {
            return Err(Failure::Check(format!("{} bytes of frames", frames.len())));
        };
        let sums: Vec<f64> = floats.chunks(FRAME_FLOATS).map(demo::sum).collect();
        let read = now_ns();
        drop(frames);
        let mut mine = self.session.arena().new_object(nframes * 8)?;
        mine.view_slice_mut::<f64>(0, nframes)?
            .copy_from_slice(&sums);
        let msg = format!("sums {nframes} {} {}", received - sent, read - sent);
        self.session
            .send_with(msg.as_bytes(), &mine.into_read_only())?;
        Ok(values * 4)
    }

    /// The comparison: the same bytes through a plain socket, into memory of our own.
    fn answer_copy(&self, nbytes: usize) -> Result<(), Failure> {
        let (words, _) = self.expect("copy", false)?;
        let [path] = words.as_slice() else {
            return Err(Failure::Protocol(format!("bad copy message {words:?}")));
        };
        let mut conn = UnixStream::connect(path)?;
        conn.set_read_timeout(self.timeout)?;
        let mut stamp = [0u8; 8];
        conn.read_exact(&mut stamp)?;
        let mut floats = vec![0f32; nbytes / 4];
        let buf: &mut [u8] = bytemuck::cast_slice_mut(&mut floats);
        let mut got = 0;
        while got < buf.len() {
            match conn.read(&mut buf[got..])? {
                0 => break,
                n => got += n,
            }
        }
        let total = demo::sum(&floats[..got / 4]);
        let copied = now_ns() - u64::from_ne_bytes(stamp);
        let msg = format!("copied {got} {total:.0} {copied}");
        Ok(self.session.send(msg.as_bytes())?)
    }

    fn run(&self) -> Result<(), Failure> {
        self.session.send(b"client rust")?;
        self.answer_catalog()?;
        self.answer_frames()?;
        let nbytes = self.answer_frames()?; // the same frames again, their pool mapped
        self.answer_copy(nbytes)?;
        self.expect("bye", false).map(|_| ())
    }
}

fn main() -> ExitCode {
    let defaults = (
        demo::default_server().into(),
        demo::default_app().into(),
        30000,
    );
    let Some((server, app, timeout_ms)) = options::client(std::env::args().skip(1), defaults)
    else {
        return usage();
    };
    let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
    let session = match Session::connect(&server, &app, &ClientOptions::new().timeout(timeout)) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("demo_client: connect: {} ({})", e.message(), e.detail());
            return ExitCode::from(3);
        }
    };
    match (Client { session, timeout }).run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Check(why)) => {
            eprintln!("demo_client: {why}");
            ExitCode::from(2)
        }
        Err(Failure::Protocol(why)) => {
            eprintln!("demo_client: {why}");
            ExitCode::from(4)
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: demo_client [-n SERVER] [-a APP] [-t TIMEOUT_MS]");
    ExitCode::from(3)
}
