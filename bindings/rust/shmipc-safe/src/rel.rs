//! `Rel`: the self-relative offset pointer of `shmipc/offptr.h` (`shmipc_rel`).

use shmipc_sys as sys;

/// A self-relative pointer, layout-identical to C's `shmipc_rel`: the distance in bytes from
/// the field's own address to its target, so a structure linked with it reads the same in
/// every process, wherever each maps the memory. The distance 1 is NULL (zeroed memory is
/// therefore *not* a null `Rel`: initialise with [`Rel::NULL`]).
///
/// A `Rel` means nothing without the memory it lies in: follow it with
/// [`Object::follow`](crate::Object::follow) (which checks that the field and its target lie
/// inside the object) and set it with [`Object::set_rel`](crate::Object::set_rel).
///
/// Structures declared in C headers get `Rel` fields when bindgen maps `shmipc_rel` to it
/// (`blocklist_type("shmipc_rel")` and `raw_line("pub use shmipc::Rel as shmipc_rel;")`), as
/// the examples' catalogue does.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rel {
    off: i64,
}

// The layout is the C struct's, so a `Rel` may stand wherever C has a `shmipc_rel`.
const _: () = {
    assert!(std::mem::size_of::<Rel>() == std::mem::size_of::<sys::shmipc_rel>());
    assert!(std::mem::align_of::<Rel>() == std::mem::align_of::<sys::shmipc_rel>());
};

// SAFETY: `Rel` is a transparent wrapper of one i64: every bit pattern is a valid value
// (null or a distance) and it has no padding.
unsafe impl bytemuck::Zeroable for Rel {}
// SAFETY: as above; it is also `Copy` and `'static`.
unsafe impl bytemuck::Pod for Rel {}

impl Rel {
    /// The null pointer (`SHMIPC_REL_NULL`).
    pub const NULL: Rel = Rel {
        off: sys::SHMIPC_REL_NULL_OFF as i64,
    };

    /// A pointer from a field at byte `field` to byte `target` of the same memory (offsets
    /// from any common base), or null for `None`. Fails when `target` lies inside the
    /// field's first bytes where the distance 1 would read as null.
    pub(crate) fn between(field: usize, target: Option<usize>) -> Option<Rel> {
        let Some(target) = target else {
            return Some(Rel::NULL);
        };
        let off = i64::try_from(target).ok()? - i64::try_from(field).ok()?;
        (off != Rel::NULL.off).then_some(Rel { off })
    }

    /// True for the null pointer.
    pub fn is_null(&self) -> bool {
        *self == Rel::NULL
    }

    /// The stored distance (target address minus the field's address; 1 = null).
    pub fn distance(&self) -> i64 {
        self.off
    }
}

impl Default for Rel {
    /// The null pointer.
    fn default() -> Rel {
        Rel::NULL
    }
}

impl From<sys::shmipc_rel> for Rel {
    fn from(raw: sys::shmipc_rel) -> Rel {
        Rel { off: raw.off }
    }
}

impl From<Rel> for sys::shmipc_rel {
    fn from(rel: Rel) -> sys::shmipc_rel {
        sys::shmipc_rel { off: rel.off }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_distance_one_not_zero() {
        assert!(Rel::NULL.is_null());
        assert_eq!(Rel::NULL.distance(), 1);
        let zeroed: Rel = bytemuck::Zeroable::zeroed();
        assert!(
            !zeroed.is_null(),
            "zeroed memory is a pointer to itself, not null"
        );
        assert!(Rel::default().is_null());
    }

    #[test]
    fn between_measures_from_the_field() {
        assert_eq!(Rel::between(8, Some(40)).unwrap().distance(), 32);
        assert_eq!(Rel::between(40, Some(8)).unwrap().distance(), -32);
        assert_eq!(Rel::between(8, Some(8)).unwrap().distance(), 0);
        assert!(Rel::between(8, None).unwrap().is_null());
        // one byte past the field's start would be stored as 1, which reads as null
        assert_eq!(Rel::between(8, Some(9)), None);
    }

    #[test]
    fn converts_to_and_from_the_c_struct() {
        let raw: sys::shmipc_rel = Rel::NULL.into();
        assert_eq!(raw.off, 1);
        assert_eq!(Rel::from(sys::shmipc_rel { off: -24 }).distance(), -24);
    }
}
