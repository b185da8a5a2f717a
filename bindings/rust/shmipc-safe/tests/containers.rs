//! shmipc::collections::{Vec, Str, Map} and shmipc::Mutex: every operation, random
//! operations against std's HashMap and Vec, a lock holder killed (SIGKILL, in a forked
//! child), and a second process writing the same containers.

use std::collections::HashMap;
use std::time::Duration;

use shmipc::collections::{Map, Str, Vec as SVec};
use shmipc::{Arena, ErrorKind, Mutex, Scope};

fn arena() -> Arena {
    Arena::anonymous(16 << 20).expect("an anonymous arena")
}

/// A named arena for tests with a forked child (which opens its own handle: an inherited
/// one refuses every call); its name is removed at once, the memory stays while open.
fn named_arena(test: &str) -> (String, Arena) {
    let name = format!("rs{}-{test}", std::process::id());
    let arena = Arena::open(&name, 16 << 20, Scope::Node).expect("a named arena");
    (name, arena)
}

/// Wait for a forked child: its wait status.
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: pid is a child of this process.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

/// A tiny deterministic generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn map_agrees_with_a_hashmap() {
    let arena = arena();
    let mut map = Map::open(&arena, "index", 8).unwrap();
    let mut model: HashMap<std::vec::Vec<u8>, [u8; 8]> = HashMap::new();
    let mut rng = Rng(19);
    for _ in 0..5000 {
        let r = rng.next();
        let key = format!("k{}", r % 300).into_bytes();
        match (r >> 20) % 4 {
            0 | 1 => {
                let v = rng.next().to_ne_bytes();
                map.insert(&key, &v).unwrap();
                model.insert(key, v);
            }
            2 => assert_eq!(map.remove(&key).unwrap(), model.remove(&key).is_some()),
            _ => {
                assert_eq!(map.get(&key), model.get(&key).map(|v| v.to_vec()));
                assert_eq!(map.contains_key(&key), model.contains_key(&key));
            }
        }
        assert_eq!(map.len(), model.len());
    }
    let mut entries = map.entries().unwrap();
    entries.sort();
    let mut want: std::vec::Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.to_vec())).collect();
    want.sort();
    assert_eq!(entries, want);
    assert_eq!(
        map.insert(b"k", b"short").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // SAFETY: nobody else writes this map.
    let in_place = unsafe { map.get_in_place(&entries[0].0) }.unwrap();
    assert_eq!(in_place, &entries[0].1[..]);
    assert!(Map::open(&arena, "other", 0).is_err());
}

#[test]
fn vec_and_str() {
    let arena = arena();
    let mut v = SVec::<f64>::open(&arena, "floats").unwrap();
    let mut model = std::vec::Vec::new();
    let mut rng = Rng(7);
    for _ in 0..3000 {
        let r = rng.next();
        match r % 4 {
            0 | 1 => {
                v.push(r as f64).unwrap();
                model.push(r as f64);
            }
            2 => assert_eq!(v.pop(), model.pop()),
            _ if !model.is_empty() => {
                let i = (r >> 8) as usize % model.len();
                v.set(i, 0.5).unwrap();
                model[i] = 0.5;
            }
            _ => {}
        }
    }
    assert_eq!(v.to_vec(), model);
    // SAFETY: nobody else writes this vector.
    assert_eq!(unsafe { v.as_slice() }, &model[..]);
    assert!(v.get(model.len()).is_none());
    v.reserve(10_000).unwrap();
    v.clear();
    assert!(v.is_empty());
    assert_eq!(
        SVec::<u32>::open(&arena, "floats").err().unwrap().kind(),
        ErrorKind::AlreadyExists // this process holds it already
    );
    let mut s = Str::open(&arena, "greeting").unwrap();
    assert!(s.is_empty());
    s.set(b"hello\0world").unwrap();
    assert_eq!(s.to_vec(), b"hello\0world");
    assert_eq!(s.len(), 11);
}

#[test]
fn a_killed_holder_is_reported_and_the_lock_stays_usable() {
    let (name, arena) = named_arena("killed");
    let lock = Mutex::open(&arena, "lock").unwrap();
    let mut map = Map::open(&arena, "kv", 8).unwrap();
    // SAFETY: the child makes its own handles and leaves by SIGKILL or _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let child = || -> shmipc::Result<()> {
            let arena = Arena::open(&name, 16 << 20, Scope::Node)?;
            let lock = Mutex::open(&arena, "lock")?;
            let mut map = Map::open(&arena, "kv", 8)?;
            let guard = lock.lock()?;
            for i in 0..1000u64 {
                map.insert(format!("c{}", i % 64).as_bytes(), &i.to_ne_bytes())?;
            }
            std::mem::forget(guard);
            // SAFETY: this child kills itself, mid-way, holding the lock.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            Ok(())
        };
        let _ = child();
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(1) };
    }
    let status = wait(pid);
    assert!(
        libc::WIFSIGNALED(status),
        "the child was killed, status {status}"
    );
    let guard = lock.lock_timeout(Some(Duration::from_secs(10))).unwrap();
    assert!(guard.owner_died());
    map.repair().unwrap();
    assert_eq!(map.len(), 64);
    assert_eq!(map.entries().unwrap().len(), 64);
    drop(guard);
    let guard = lock.lock().unwrap();
    assert!(!guard.owner_died());
    drop(guard);
    arena.check().unwrap();
    Arena::unlink(&name).unwrap();
}

#[test]
fn a_second_process_writes_the_same_containers() {
    let (name, arena) = named_arena("second");
    let lock = Mutex::open(&arena, "lock").unwrap();
    let mut map = Map::open(&arena, "kv", 8).unwrap();
    // SAFETY: the child makes its own handles and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let child = || -> shmipc::Result<()> {
            let arena = Arena::open(&name, 16 << 20, Scope::Node)?;
            let lock = Mutex::open(&arena, "lock")?;
            let mut map = Map::open(&arena, "kv", 8)?;
            let _guard = lock.lock()?;
            map.insert(b"from-child", &7u64.to_ne_bytes())
        };
        let ok = child().is_ok();
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    assert_eq!(wait(pid), 0);
    let _guard = lock.lock().unwrap();
    assert_eq!(map.get(b"from-child"), Some(7u64.to_ne_bytes().to_vec()));
    map.insert(b"x", &[0; 8]).unwrap();
    Arena::unlink(&name).unwrap();
}
