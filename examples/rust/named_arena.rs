//! named_arena — a named shared allocator, Umpire style, in Rust.
//!
//! Unrelated processes share one copy of a lookup table: each opens the named arena
//! ("node_allocator-<pid of the first>") and asks it for the named allocation
//! "lookup_table"; the first to ask creates it (and fills it), the others find it — the
//! same memory, mapped wherever each process likes. No session, no server.
//!
//!   named_arena [-r READERS] [-n DOUBLES]
//!
//! The process started by hand creates and fills the table, then starts READERS copies of
//! itself (`--reader ARENA DOUBLES`) that find it and sum it. It checks their sums, drops
//! its reference, shows the arena back at its baseline, and removes the arena's name.
//! Exit status 0 when every check passed.

use std::process::{Command, ExitCode};

use shmipc::{Arena, Scope};

const TABLE: &str = "lookup_table";

/// Value i of the table.
fn value(i: usize) -> f64 {
    (i % 1000) as f64 * 0.5
}

/// MiB of a table of `doubles` doubles.
fn mib(doubles: usize) -> usize {
    (doubles * 8) >> 20
}

/// What every process asks for (only the first one's request makes the arena).
fn arena_size(doubles: usize) -> usize {
    doubles * 8 + (1 << 20)
}

/// A reader: find the table by name, sum it where it lies, print the sum.
fn reader(arena_name: &str, doubles: usize) -> shmipc::Result<()> {
    let arena = Arena::open(arena_name, arena_size(doubles), Scope::Node)?;
    let table = arena.named(TABLE, doubles * 8)?;
    // SAFETY: the first process filled the table before it started the readers, and no
    // process writes it any more (the readers only read).
    let sum: f64 = unsafe { table.as_slice::<f64>()? }.iter().sum();
    println!(
        "  reader {}: found '{TABLE}' (created here: {}) at {:p}, sum {sum}",
        std::process::id(),
        table.created(),
        table.as_ptr()
    );
    Ok(())
}

/// The first process: create and fill the table, let the readers find it.
fn first(readers: usize, doubles: usize) -> Result<bool, Box<dyn std::error::Error>> {
    let arena_name = format!("node_allocator-{}", std::process::id());
    let arena = Arena::open(&arena_name, arena_size(doubles), Scope::Node)?;
    let base = arena.stats()?.used;
    let mut table = arena.named(TABLE, doubles * 8)?;
    // SAFETY: no other process has the table yet: the readers start after this loop.
    for (i, v) in unsafe { table.as_mut_slice::<f64>()? }
        .iter_mut()
        .enumerate()
    {
        *v = value(i);
    }
    let want: f64 = (0..doubles).map(value).sum();
    println!(
        "first {}: created '{TABLE}' ({} doubles, {} MiB) in arena '{arena_name}', sum {want}",
        std::process::id(),
        doubles,
        mib(doubles)
    );
    let mut good = table.created();
    for _ in 0..readers {
        let out = Command::new(std::env::current_exe()?)
            .args(["--reader", &arena_name, &doubles.to_string()])
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        good &= out.status.success() && text.trim_end().ends_with(&format!("sum {want}"));
    }
    drop(table); // the last reference: freed
    let after = arena.stats()?.used;
    println!(
        "{} processes, 1 copy of the table: {} MiB instead of {} MiB; arena back to its \
         baseline: {}",
        readers + 1,
        mib(doubles),
        (readers + 1) * mib(doubles),
        after == base
    );
    Arena::unlink(&arena_name)?;
    Ok(good && after == base)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let status = match args.as_slice() {
        [flag, arena, doubles] if flag == "--reader" => match doubles.parse() {
            Ok(doubles) => reader(arena, doubles).map_err(Into::into).map(|()| true),
            Err(e) => Err(e.into()),
        },
        _ => match parse(&args) {
            Some((readers, doubles)) => first(readers, doubles),
            None => {
                eprintln!("usage: named_arena [-r READERS] [-n DOUBLES]");
                return ExitCode::from(3);
            }
        },
    };
    match status {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("named_arena: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `-r READERS -n DOUBLES`, defaults 3 and 1 Mi.
fn parse(args: &[String]) -> Option<(usize, usize)> {
    let (mut readers, mut doubles) = (3, 1 << 20);
    for (letter, value) in shmipc_examples::options::parse(args.iter().cloned(), "rn")? {
        let n = value.parse().ok()?;
        match letter {
            'r' => readers = n,
            _ => doubles = n,
        }
    }
    (doubles > 0).then_some((readers, doubles))
}
