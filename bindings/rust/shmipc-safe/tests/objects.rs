//! Arenas, objects, typed views and offset pointers: what fits works, what does not is an
//! error (never a crash, never a read outside the object).

use bytemuck::{Pod, Zeroable};
use shmipc::{Arena, ErrorKind, Object, Rel, Scope};

#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
struct Node {
    next: Rel,
    name: Rel,
    value: f64,
}

const NODE: usize = std::mem::size_of::<Node>();

fn object(size: usize) -> (Arena, Object) {
    let arena = Arena::anonymous(1 << 20).expect("an anonymous arena");
    let object = arena.new_object(size).expect("an object");
    (arena, object)
}

fn assert_invalid<T: std::fmt::Debug>(result: shmipc::Result<T>, what: &str) {
    let err = result.expect_err(what);
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{what}: {err}");
    assert!(!err.detail().is_empty(), "{what}: the detail says why");
}

#[test]
fn a_linked_structure_is_built_and_walked_by_offsets() {
    let (_arena, mut obj) = object(4 * NODE + 64);
    for i in 0..3 {
        *obj.view_at_mut::<Node>(i * NODE).unwrap() = Node {
            next: Rel::NULL,
            name: Rel::NULL,
            value: i as f64,
        };
    }
    obj.set_rel(0, Some(2 * NODE)).unwrap(); // node 0 -> node 2 -> node 1
    obj.set_rel(2 * NODE, Some(NODE)).unwrap();
    let name_at = 4 * NODE;
    obj[name_at..name_at + 6].copy_from_slice(b"first\0");
    obj.set_rel(std::mem::offset_of!(Node, name), Some(name_at))
        .unwrap();

    let mut values = vec![];
    let mut node = Some(obj.view::<Node>().unwrap());
    while let Some(n) = node {
        values.push(n.value);
        node = obj.follow(&n.next).unwrap();
    }
    assert_eq!(values, [0.0, 2.0, 1.0]);
    let head: &Node = obj.view().unwrap();
    assert_eq!(
        obj.follow_cstr(&head.name).unwrap().unwrap().to_bytes(),
        b"first"
    );
    assert_eq!(obj.target_of(&head.next).unwrap(), Some(2 * NODE));
    assert!(obj
        .follow_cstr(&obj.view_at::<Node>(NODE).unwrap().name)
        .unwrap()
        .is_none());
}

#[test]
fn views_outside_the_object_or_misaligned_are_refused() {
    let (_arena, mut obj) = object(64);
    assert_invalid(obj.view_at::<u64>(64), "past the end");
    assert_invalid(obj.view_at::<u64>(60), "straddling the end");
    assert_invalid(obj.view_at::<u64>(usize::MAX - 2), "offset overflow");
    assert_invalid(obj.view_at::<u64>(4), "misaligned");
    assert_invalid(obj.view_slice::<u32>(0, 17), "slice past the end");
    assert_invalid(obj.view_slice::<u64>(0, usize::MAX / 4), "count overflow");
    assert_invalid(obj.view_at_mut::<u64>(64), "mutable, past the end");
    assert_invalid(obj.view_slice_mut::<u16>(1, 2), "mutable, misaligned");
    assert_eq!(obj.view_slice::<u64>(0, 8).unwrap().len(), 8);
    assert_eq!(obj.view_slice::<u64>(64, 0).unwrap().len(), 0);
}

#[test]
fn offset_pointers_that_leave_the_object_are_refused() {
    let (_arena, mut obj) = object(4 * NODE);
    assert_invalid(obj.set_rel(0, Some(4 * NODE)), "target past the end");
    assert_invalid(obj.set_rel(4 * NODE - 4, Some(0)), "field past the end");
    assert_invalid(obj.set_rel(4, Some(0)), "misaligned field");
    assert_invalid(obj.set_rel(8, Some(9)), "a target inside the field itself");

    let outside = Rel::NULL;
    assert_invalid(
        obj.target_of(&outside),
        "a pointer that is not in the object",
    );

    // distances written by a peer that cannot be trusted
    for distance in [4 * NODE as i64, -8, i64::MAX, i64::MIN] {
        *obj.view_at_mut::<i64>(0).unwrap() = distance;
        let head: &Node = obj.view().unwrap();
        assert_invalid(obj.follow::<Node>(&head.next), "target outside");
    }
    *obj.view_at_mut::<i64>(0).unwrap() = (4 * NODE - 8) as i64;
    let head: &Node = obj.view().unwrap();
    assert_invalid(
        obj.follow::<Node>(&head.next),
        "target inside, struct outside",
    );
    assert_invalid(obj.follow_slice::<u64>(&head.next, 2), "slice past the end");

    obj.fill(b'x'); // a string with no NUL before the end
    obj.set_rel(0, Some(16)).unwrap();
    let head: &Node = obj.view().unwrap();
    assert_invalid(obj.follow_cstr(&head.next), "unterminated string");

    obj.set_rel(0, None).unwrap();
    let head: &Node = obj.view().unwrap();
    assert!(obj.follow_slice::<u32>(&head.next, 0).unwrap().is_empty());
    assert_invalid(
        obj.follow_slice::<u32>(&head.next, 1),
        "null where items are due",
    );
}

#[test]
fn a_read_only_handle_reads_the_same_memory() {
    let (_arena, mut obj) = object(32);
    obj.copy_from_slice(&[5; 32]);
    let read_only = obj.into_read_only();
    assert!(
        read_only.is_writable(),
        "the memory is still mapped writable"
    );
    assert_eq!(read_only.view_slice::<u8>(0, 32).unwrap(), &[5; 32]);
}

#[test]
fn arenas_say_what_is_wrong_with_a_request() {
    let arena = Arena::anonymous(1 << 20).unwrap();
    let err = arena.new_object(1 << 30).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfMemory, "{err}");
    assert_invalid(arena.new_object(0), "an empty object");
    assert_invalid(Arena::anonymous(0), "an empty arena");
    assert_invalid(Arena::open("bad/name", 1 << 20, Scope::Node), "a bad name");
    assert_invalid(
        Arena::open("nul\0", 1 << 20, Scope::Node),
        "a NUL in the name",
    );
    let base = arena.stats().unwrap();
    let obj = arena.new_object(1000).unwrap();
    let stats = arena.stats().unwrap();
    assert!(stats.used >= base.used + 1000 && stats.allocations == base.allocations + 1);
    drop(obj);
    assert_eq!(
        arena.stats().unwrap().used,
        base.used,
        "freed with its last handle"
    );
    arena.check().unwrap();
}

#[test]
fn named_arenas_are_shared_by_name_and_leave_nothing_behind() {
    let name = format!("rs-named-{}", std::process::id());
    // SAFETY: getuid has no preconditions.
    let file = format!("/dev/shm/shmipc.{}.{name}", unsafe { libc::getuid() });
    let first = Arena::open(&name, 1 << 20, Scope::Node).unwrap();
    let second = Arena::open(&name, 1 << 20, Scope::Node).unwrap();
    assert!(std::path::Path::new(&file).exists(), "{file}");
    let obj = first.new_object(100).unwrap();
    assert_eq!(
        second.stats().unwrap().allocations,
        first.stats().unwrap().allocations,
        "one arena seen through two handles"
    );
    Arena::unlink(&name).unwrap();
    assert!(!std::path::Path::new(&file).exists(), "unlinked");
    assert_eq!(
        Arena::unlink(&name).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    drop((first, second));
    assert_eq!(obj.len(), 100, "the object keeps its arena mapped");
}

#[test]
fn named_allocations_are_found_by_name_counted_and_freed_with_the_last() {
    let name = format!("rs-named-alloc-{}", std::process::id());
    let first = Arena::open(&name, 1 << 20, Scope::Node).unwrap();
    let second = Arena::open(&name, 1 << 20, Scope::Node).unwrap(); // another mapping
    Arena::unlink(&name).unwrap(); // nothing left in /dev/shm whatever happens next
    let base = first.stats().unwrap();

    let mut made = first.named("table", 64 * 8).unwrap();
    assert!(made.created());
    // SAFETY: no other handle of the table exists yet.
    unsafe { made.as_mut_slice::<f64>() }
        .unwrap()
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = i as f64);
    let found = second.named("table", 64 * 8).unwrap();
    assert!(!found.created(), "the second asker finds it");
    assert_ne!(found.as_ptr(), made.as_ptr(), "at another address");
    // SAFETY: no one writes the table while the views live (this test only reads it now).
    let sum = unsafe { found.as_slice::<f64>() }
        .unwrap()
        .iter()
        .sum::<f64>();
    assert_eq!(sum, 2016.0);
    let mut bytes = [0; 8];
    found.read(63 * 8, &mut bytes).unwrap();
    assert_eq!(
        f64::from_ne_bytes(bytes),
        63.0,
        "a volatile copy reads the same"
    );
    made.write(0, &1.5f64.to_ne_bytes()).unwrap();
    found.read(0, &mut bytes).unwrap();
    assert_eq!(
        f64::from_ne_bytes(bytes),
        1.5,
        "and sees the other mapping's write"
    );
    made.write(0, &0f64.to_ne_bytes()).unwrap();
    assert_eq!(
        found.read(64 * 8 - 4, &mut bytes).unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "a copy past the end is refused"
    );
    assert_eq!(first.stats().unwrap().named, 1);

    let held = first.named("table", 64 * 8).unwrap_err();
    assert_eq!(
        held.kind(),
        ErrorKind::AlreadyExists,
        "one Named per handle: {held}"
    );
    let other_size = second.named("table", 8).unwrap_err();
    assert_eq!(other_size.kind(), ErrorKind::AlreadyExists, "{other_size}");
    assert_eq!(
        // SAFETY: as above.
        unsafe { found.as_slice::<[u8; 3]>() }.unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "512 bytes are no [u8; 3]s"
    );

    drop(made);
    assert_eq!(first.stats().unwrap().named, 1, "the second still holds it");
    // SAFETY: as above.
    assert_eq!(unsafe { found.as_slice::<f64>() }.unwrap()[63], 63.0);
    drop(found);
    let after = first.stats().unwrap();
    assert_eq!(
        (after.named, after.used),
        (0, base.used),
        "freed with the last"
    );
    assert!(first.named("", 8).is_err() && first.named("a\0b", 8).is_err());
    first.check().unwrap();
}
