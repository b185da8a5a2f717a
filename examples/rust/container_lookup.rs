//! container_lookup ARENA COUNT — the Rust twin of examples/containers/lookup.c: look COUNT
//! keys up in the index a Python process built (examples/containers/build_index.py), by
//! copying each value out of the shared map. Prints "found N of COUNT".

use shmipc::collections::Map;
use shmipc::{Arena, Scope};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).ok_or("usage: container_lookup ARENA [COUNT]")?;
    let count: u64 = args.get(2).map_or(Ok(1000), |c| c.parse())?;
    let arena = Arena::open(name, 1 << 20, Scope::Node)?;
    let index = Map::open(&arena, "index", 8)?;
    let n = index.len() as u64;
    if n == 0 {
        return Err("the index is empty".into());
    }
    let mut found = 0;
    for i in 0..count {
        let want = (i * 7919) % n;
        if index.get(format!("key-{want}").as_bytes()) == Some(want.to_le_bytes().to_vec()) {
            found += 1;
        }
    }
    println!("found {found} of {count}");
    if found == count {
        Ok(())
    } else {
        Err("some keys were missing".into())
    }
}
