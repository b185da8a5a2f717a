//! The catalogue (examples/README.md): records linked with offset pointers inside one
//! object, built and walked in place. The structs are the C header's, through bindgen.

use std::mem::{offset_of, size_of};

use shmipc::{Access, Object, Rel};

use crate::c::{catalog, catalog_record, CATALOG_ALIGN, CATALOG_FNV_INIT, CATALOG_MAGIC};

/// The FNV-1a 64 prime.
const FNV_PRIME: u64 = 0x100000001b3;

/// FNV-1a 64 of `bytes`, continuing from `hash`.
pub fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// FNV-1a 64 of `bytes` from the offset basis.
pub fn checksum(bytes: &[u8]) -> u64 {
    fnv(CATALOG_FNV_INIT, bytes)
}

/// Bytes a catalogue of `count` records needs (an upper bound), as `catalog_size` in C.
pub fn size(count: u32) -> usize {
    let per_record = size_of::<catalog_record>() + 32 + 4 * size_of::<u32>() + 16;
    size_of::<catalog>() + count as usize * per_record
}

/// Record `i` of every catalogue: id i, name "record-<i>", value i * 1.5, i % 4 tags
/// (tag j is i * 10 + j).
struct Spec {
    id: u32,
    name: String,
    value: f64,
    tags: Vec<u32>,
}

fn spec(i: u32) -> Spec {
    Spec {
        id: i,
        name: format!("record-{i}"),
        value: f64::from(i) * 1.5,
        tags: (0..i % 4).map(|j| i * 10 + j).collect(),
    }
}

/// The ids of a catalogue of `count` records, in list order.
fn order(count: u32, reversed: bool) -> Box<dyn Iterator<Item = u32>> {
    if reversed {
        Box::new((0..count).rev())
    } else {
        Box::new(0..count)
    }
}

/// A bump allocator over the object's bytes, 8-byte aligned as in C.
struct Bump {
    used: usize,
    cap: usize,
}

impl Bump {
    fn take(&mut self, n: usize) -> Option<usize> {
        let align = CATALOG_ALIGN as usize;
        let at = self.used.checked_add(align - 1)? & !(align - 1);
        (at <= self.cap && n <= self.cap - at).then(|| {
            self.used = at + n;
            at
        })
    }
}

/// Build the records `0..count` (in reverse order if `reversed`) into `obj`, as
/// `catalog_build` in C. None if the object is too small.
pub fn build(obj: &mut Object, count: u32, reversed: bool) -> Option<()> {
    let mut bump = Bump {
        used: size_of::<catalog>(),
        cap: obj.len(),
    };
    *obj.view_mut::<catalog>().ok()? = catalog {
        magic: CATALOG_MAGIC,
        count: 0,
        used: 0,
        first: Rel::NULL,
    };
    let mut link = offset_of!(catalog, first);
    for i in order(count, reversed) {
        let record = add_record(obj, &mut bump, &spec(i))?;
        obj.set_rel(link, Some(record)).ok()?;
        link = record + offset_of!(catalog_record, next);
        obj.view_mut::<catalog>().ok()?.count += 1;
    }
    obj.view_mut::<catalog>().ok()?.used = bump.used as u64;
    Some(())
}

/// Write a record with its name and tags where the bump allocator says; its offset.
fn add_record(obj: &mut Object, bump: &mut Bump, spec: &Spec) -> Option<usize> {
    let record = bump.take(size_of::<catalog_record>())?;
    let name_at = bump.take(spec.name.len() + 1)?;
    let tags_at = match spec.tags.len() {
        0 => None,
        n => Some(bump.take(n * size_of::<u32>())?),
    };
    obj[name_at..name_at + spec.name.len()].copy_from_slice(spec.name.as_bytes());
    obj[name_at + spec.name.len()] = 0;
    if let Some(at) = tags_at {
        obj.view_slice_mut(at, spec.tags.len())
            .ok()?
            .copy_from_slice(&spec.tags);
    }
    *obj.view_at_mut(record).ok()? = catalog_record {
        next: Rel::NULL,
        name: Rel::NULL,
        tags: Rel::NULL,
        id: spec.id,
        ntags: spec.tags.len() as u32,
        value: spec.value,
    };
    obj.set_rel(record + offset_of!(catalog_record, name), Some(name_at))
        .ok()?;
    obj.set_rel(record + offset_of!(catalog_record, tags), tags_at)
        .ok()?;
    Some(record)
}

/// The digest of the catalogue of `count` records (in reverse order if `reversed`),
/// computed from the records' definition rather than from a built catalogue.
pub fn expected_digest(count: u32, reversed: bool) -> u64 {
    order(count, reversed).fold(CATALOG_FNV_INIT, |hash, i| {
        let spec = spec(i);
        fold_record(hash, spec.id, spec.name.as_bytes(), spec.value, &spec.tags)
    })
}

/// Walk the catalogue in `obj`, trusting nothing: (digest, record count), or None if it
/// is malformed (a pointer leaving the object, more records than it says, a bad magic).
pub fn digest<A: Access>(obj: &Object<A>) -> Option<(u64, u64)> {
    let head: &catalog = obj.view().ok()?;
    if head.magic != CATALOG_MAGIC {
        return None;
    }
    let (mut hash, mut count) = (CATALOG_FNV_INIT, 0);
    let mut next = obj.follow::<catalog_record>(&head.first).ok()?;
    while let Some(record) = next {
        if count >= head.count {
            return None;
        }
        count += 1;
        hash = record_digest(obj, record, hash)?;
        next = obj.follow(&record.next).ok()?;
    }
    (count == head.count).then_some((hash, count))
}

/// The digest continued over one record of the object.
fn record_digest<A: Access>(obj: &Object<A>, record: &catalog_record, hash: u64) -> Option<u64> {
    let name = obj.follow_cstr(&record.name).ok()??;
    let tags: &[u32] = if record.ntags == 0 {
        &[]
    } else {
        obj.follow_slice(&record.tags, record.ntags as usize).ok()?
    };
    Some(fold_record(
        hash,
        record.id,
        name.to_bytes(),
        record.value,
        tags,
    ))
}

/// The digest continued over one record: id, name, value, number of tags, tags (all
/// little-endian).
fn fold_record(hash: u64, id: u32, name: &[u8], value: f64, tags: &[u32]) -> u64 {
    let mut hash = fnv(hash, &id.to_le_bytes());
    hash = fnv(hash, name);
    hash = fnv(hash, &value.to_le_bytes());
    hash = fnv(hash, &(tags.len() as u32).to_le_bytes());
    tags.iter().fold(hash, |h, tag| fnv(h, &tag.to_le_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built(count: u32, reversed: bool) -> (shmipc::Arena, Object) {
        let arena = shmipc::Arena::anonymous(1 << 20).unwrap();
        let mut obj = arena.new_object(size(count)).unwrap();
        build(&mut obj, count, reversed).expect("it fits");
        (arena, obj)
    }

    #[test]
    fn a_built_catalogue_walks_to_the_definitions_digest() {
        for (count, reversed) in [(0, false), (1, true), (100, false), (100, true)] {
            let (_arena, obj) = built(count, reversed);
            let digest = expected_digest(count, reversed);
            assert_eq!(super::digest(&obj), Some((digest, u64::from(count))));
        }
        assert_ne!(expected_digest(5, false), expected_digest(5, true));
    }

    #[test]
    fn malformed_catalogues_are_refused() {
        let (_arena, mut obj) = built(10, false);
        obj.view_mut::<catalog>().unwrap().count = 9; // more records than it says
        assert_eq!(digest(&obj), None);
        obj.view_mut::<catalog>().unwrap().count = 11; // fewer
        assert_eq!(digest(&obj), None);
        obj.view_mut::<catalog>().unwrap().count = 10;
        let first = obj
            .target_of(&obj.view::<catalog>().unwrap().first)
            .unwrap()
            .unwrap();
        obj.set_rel(first + offset_of!(catalog_record, next), Some(first))
            .unwrap(); // a loop
        assert_eq!(digest(&obj), None);
        *obj.view_at_mut::<i64>(first + offset_of!(catalog_record, name))
            .unwrap() = 1 << 40;
        assert_eq!(digest(&obj), None, "a name outside the object");
        obj.view_mut::<catalog>().unwrap().magic ^= 1;
        assert_eq!(digest(&obj), None);
        let arena = shmipc::Arena::anonymous(1 << 20).unwrap();
        let mut small = arena.new_object(8).unwrap();
        assert_eq!(build(&mut small, 1, false), None, "does not fit");
        assert_eq!(digest(&small), None);
    }
}
