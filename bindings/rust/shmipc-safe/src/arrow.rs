//! Arrow record batches in objects: one Arrow IPC stream per object, written with one copy
//! and read in place (feature `arrow`; the format: `docs/arrow.md`).
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Int64Array, RecordBatch};
//! use shmipc::Arena;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let arena = Arena::anonymous(1 << 20)?;
//! let column = Arc::new(Int64Array::from(vec![1, 2, 3]));
//! let batch = RecordBatch::try_from_iter([("x", column as _)])?;
//! let obj = shmipc::arrow::write(&arena, &[batch.clone()])?.into_read_only(); // lend it...
//! let batches = shmipc::arrow::read(obj)?; // ...the peer reads it in place
//! assert_eq!(batches, [batch]);
//! # Ok(()) }
//! ```
//!
//! The stream is the one pyarrow's `shmipc.arrow` writes and reads: Python, C and Rust
//! processes exchange tables through it.

use std::io::{self, Write};
use std::panic::AssertUnwindSafe;
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::ArrowError;

use crate::error::Error;
use crate::object::{Access, ReadWrite};
use crate::{sys, Arena, Object, Result};

/// The arrow-rs crates of this API, at the versions it was built with.
pub use {arrow_array, arrow_buffer, arrow_ipc, arrow_schema};

fn invalid(detail: String) -> Error {
    Error::new(sys::SHMIPC_EINVAL, format!("Arrow IPC stream: {detail}"))
}

fn arrow_error(what: &str, e: ArrowError) -> Error {
    invalid(format!("{what}: {e}"))
}

/// A sink that only counts the bytes: the size of the stream before it is written.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Write `batches` (one schema, at least one batch) as an Arrow IPC stream into `sink`.
fn write_stream<W: Write>(sink: W, batches: &[RecordBatch]) -> Result<W> {
    let schema = batches
        .first()
        .ok_or_else(|| invalid("no record batch to write".into()))?
        .schema();
    let mut writer = StreamWriter::try_new(sink, &schema).map_err(|e| arrow_error("schema", e))?;
    for batch in batches {
        writer
            .write(batch)
            .map_err(|e| arrow_error("record batch", e))?;
    }
    writer.finish().map_err(|e| arrow_error("end", e))?;
    writer.into_inner().map_err(|e| arrow_error("end", e))
}

/// The size in bytes of the Arrow IPC stream of `batches`, measured without writing it.
pub fn stream_size(batches: &[RecordBatch]) -> Result<usize> {
    Ok(write_stream(Counter(0), batches)?.0)
}

/// A new object of `arena` holding `batches` (which share one schema; at least one) as one
/// Arrow IPC stream: the stream's size is measured first, then the buffers are copied once,
/// straight into the object. Freeze it to lend it ([`Object::into_read_only`]), as any
/// object; [`read`] (or pyarrow, or any Arrow reader) reads it in place.
pub fn write(arena: &Arena, batches: &[RecordBatch]) -> Result<Object<ReadWrite>> {
    let size = stream_size(batches)?;
    let mut obj = arena.new_object(size)?;
    let rest = write_stream(&mut obj[..], batches)?;
    debug_assert!(rest.is_empty(), "the stream is as long as measured");
    Ok(obj)
}

/// The record batches of the Arrow IPC stream that fills `obj`, read in place: their
/// buffers point into the object (none is copied when it is 8-byte aligned, as every
/// writer aligns them; a buffer that a type needs more aligned, such as a 16-byte decimal,
/// is copied), and they keep the object alive: it is freed when the last batch (or array,
/// or buffer taken from one) is dropped. The dictionaries of dictionary columns are read
/// too. A malformed or truncated stream, or bytes after its end marker, are an error
/// ([`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument)).
///
/// `obj` is taken by value or as an `Arc`: while batches borrow its bytes no
/// `&mut` of them may exist in this process, which an `Arc` guarantees.
pub fn read<A: Access>(obj: impl Into<Arc<Object<A>>>) -> Result<Vec<RecordBatch>> {
    let obj: Arc<Object<A>> = obj.into();
    let bytes: &[u8] = &obj;
    let (ptr, len) = (NonNull::from(bytes).cast::<u8>(), bytes.len());
    // SAFETY: ptr..ptr+len is the object's memory, mapped readable for as long as the
    // object handle lives (Object's Deref), and the Buffer holds the handle (an Arc of it)
    // as its owner, so every Buffer sliced from it keeps the mapping. No `&mut` of these
    // bytes exists in this process: the Arc gives none. (Another process may still write
    // them: the protocol must hand an object to one writer at a time, as for any object.)
    // (AssertUnwindSafe: the access marker A is a unit type that arrow's bound cannot see
    // through; an object handle has no state that a panic could leave half-changed.)
    let owner = Arc::new(AssertUnwindSafe(obj));
    let mut buffer = unsafe { Buffer::from_custom_allocation(ptr, len, owner) };
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while let Some(batch) = decoder
        .decode(&mut buffer)
        .map_err(|e| arrow_error("read", e))?
    {
        batches.push(batch);
    }
    decoder.finish().map_err(|e| arrow_error("read", e))?;
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::types::Int32Type;
    use arrow_array::{Array, DictionaryArray, Float64Array, Int32Array, ListArray, StringArray};

    fn sample() -> RecordBatch {
        let strings: StringArray = (0..100).map(|i| Some(format!("row {i}"))).collect();
        let maybe: Int32Array = (0..100).map(|i| (i % 3 != 0).then_some(i)).collect();
        let kind: DictionaryArray<Int32Type> =
            (0..100).map(|i| ["red", "green", "blue"][i % 3]).collect();
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(
            (0..100).map(|i| (i % 5 != 0).then(|| vec![Some(i), Some(i + 1)])),
        );
        RecordBatch::try_from_iter([
            (
                "f64",
                Arc::new(Float64Array::from_iter_values((0..100).map(f64::from))) as _,
            ),
            ("text", Arc::new(strings) as _),
            ("maybe", Arc::new(maybe) as _),
            ("kind", Arc::new(kind) as _),
            ("list", Arc::new(list) as _),
        ])
        .unwrap()
    }

    fn inside(array: &dyn Array, start: usize, end: usize) {
        let data = array.to_data();
        for buffer in data.buffers() {
            let at = buffer.as_ptr() as usize;
            assert!(
                start <= at && at + buffer.len() <= end,
                "a buffer was copied"
            );
        }
        for child in data.child_data() {
            inside(&arrow_array::make_array(child.clone()), start, end);
        }
    }

    #[test]
    fn a_batch_round_trips_in_place() {
        let arena = Arena::anonymous(1 << 20).unwrap();
        let batch = sample();
        let obj = write(&arena, &[batch.clone(), batch.slice(10, 20)]).unwrap();
        assert_eq!(
            obj.len(),
            stream_size(&[batch.clone(), batch.slice(10, 20)]).unwrap()
        );
        let (start, end) = (obj.as_ptr() as usize, obj.as_ptr() as usize + obj.len());
        let read = read(obj).unwrap();
        assert_eq!(read, [batch.clone(), batch.slice(10, 20)]);
        for column in read[0].columns() {
            inside(column.as_ref(), start, end);
        }
        // The batches hold the object: the arena's memory stays while they do.
        drop(arena);
        assert_eq!(read[0], batch);
    }

    #[test]
    fn bad_streams_are_errors() {
        let arena = Arena::anonymous(1 << 20).unwrap();
        assert!(write(&arena, &[]).is_err());
        let good = write(&arena, &[sample()]).unwrap();
        for len in [7, 100, good.len() / 2, good.len() - 1] {
            let mut cut = arena.new_object(len).unwrap();
            cut.copy_from_slice(&good[..len]);
            assert!(read(cut).is_err(), "a stream cut at {len} was read");
        }
        let mut garbage = arena.new_object(4096).unwrap();
        for (i, byte) in garbage.iter_mut().enumerate() {
            *byte = (i * 7 + 3) as u8;
        }
        assert!(read(garbage).is_err());
        let mut trailing = arena.new_object(good.len() + 8).unwrap();
        trailing[..good.len()].copy_from_slice(&good);
        assert!(read(trailing).is_err());
    }
}
