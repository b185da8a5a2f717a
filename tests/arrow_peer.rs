//! arrow_peer — the Rust side of tests/python/test_arrow_cross.py, not an example to copy.
//!
//!   arrow_peer check SERVER ROWS   receive the sample table (tests/python/test_arrow.py's
//!       sample_table(ROWS)) as an Arrow stream, check every value and that every buffer
//!       lies in the object, answer "ok"; then write the same table with shmipc::arrow and
//!       send it back ("table").
//!   arrow_peer time SERVER N       receive N objects and print, for each, "read BYTES
//!       ROWS SECONDS": the best of 5 in-place reads.
//!
//! Exit 1: a check failed (on stderr); 3: usage or connection.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shmipc::arrow::arrow_array::types::{Int16Type, Int32Type};
use shmipc::arrow::arrow_array::{
    make_array, Array, ArrayRef, DictionaryArray, Float64Array, Int32Array, Int64Array, ListArray,
    RecordBatch, StringArray,
};
use shmipc::{ClientOptions, Object, ReadOnly, Session};

const WAIT: Option<Duration> = Some(Duration::from_secs(60));

/// sample_table(rows) of tests/python/test_arrow.py, column by column.
fn sample(rows: usize) -> Vec<(&'static str, ArrayRef)> {
    let rows = rows as i64;
    let kind: DictionaryArray<Int32Type> = (0..rows)
        .map(|i| ["red", "green", "blue"][(i % 3) as usize])
        .collect();
    let list = ListArray::from_iter_primitive::<Int16Type, _, _>(
        (0..rows).map(|i| (i % 5 != 0).then(|| vec![Some(i as i16), Some(i as i16 + 1)])),
    );
    vec![
        ("i64", Arc::new(Int64Array::from_iter_values(0..rows))),
        (
            "f64",
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| i as f64 * 0.5),
            )),
        ),
        (
            "text",
            Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| format!("row {i}")),
            )),
        ),
        (
            "maybe",
            Arc::new(Int32Array::from_iter(
                (0..rows).map(|i| (i % 3 != 0).then_some(i as i32)),
            )),
        ),
        ("kind", Arc::new(kind)),
        ("list", Arc::new(list)),
    ]
}

/// Whether every buffer of `array` (children and dictionary values included) lies in
/// start..end.
fn inside(array: &dyn Array, start: usize, end: usize) -> bool {
    let data = array.to_data();
    data.buffers().iter().all(|b| {
        let at = b.as_ptr() as usize;
        start <= at && at + b.len() <= end
    }) && data
        .child_data()
        .iter()
        .all(|child| inside(&make_array(child.clone()), start, end))
}

fn check(obj: Object<ReadOnly>, rows: usize) -> Result<(), String> {
    let (start, end) = (obj.as_ptr() as usize, obj.as_ptr() as usize + obj.len());
    let batches = shmipc::arrow::read(obj).map_err(|e| e.to_string())?;
    let [batch] = batches.as_slice() else {
        return Err(format!("{} batches, expected 1", batches.len()));
    };
    if batch.num_rows() != rows {
        return Err(format!("{} rows, expected {rows}", batch.num_rows()));
    }
    for (name, expected) in sample(rows) {
        let got = batch
            .column_by_name(name)
            .ok_or(format!("no column {name}"))?;
        if got.as_ref() != expected.as_ref() {
            return Err(format!("column {name} differs: {got:?}"));
        }
        if !inside(got.as_ref(), start, end) {
            return Err(format!("column {name} was copied out of the object"));
        }
    }
    Ok(())
}

fn run_check(session: &Session, rows: usize) -> Result<(), String> {
    let msg = session
        .recv(&mut [0; 64], WAIT)
        .map_err(|e| e.to_string())?;
    check(msg.object.ok_or("no object came")?, rows)?;
    session.send(b"ok").map_err(|e| e.to_string())?;
    // Every field nullable, as pyarrow makes them.
    let columns = sample(rows)
        .into_iter()
        .map(|(name, array)| (name, array, true));
    let batch = RecordBatch::try_from_iter_with_nullable(columns).map_err(|e| e.to_string())?;
    let obj = shmipc::arrow::write(session.arena(), &[batch]).map_err(|e| e.to_string())?;
    session
        .send_with(b"table", &obj.into_read_only())
        .map_err(|e| e.to_string())
}

fn run_time(session: &Session, count: usize) -> Result<(), String> {
    for _ in 0..count {
        let msg = session
            .recv(&mut [0; 64], WAIT)
            .map_err(|e| e.to_string())?;
        let obj = Arc::new(msg.object.ok_or("no object came")?);
        let mut best = f64::INFINITY;
        let mut rows = 0;
        for _ in 0..5 {
            let start = Instant::now();
            let batches = shmipc::arrow::read(obj.clone()).map_err(|e| e.to_string())?;
            best = best.min(start.elapsed().as_secs_f64());
            rows = batches.iter().map(RecordBatch::num_rows).sum::<usize>();
        }
        println!("read {} {rows} {best:.9}", obj.len());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, server, count) = match args.as_slice() {
        [mode, server, count] => match count.parse::<usize>() {
            Ok(count) => (mode.as_str(), server.as_str(), count),
            Err(_) => (mode.as_str(), "", 0),
        },
        _ => ("", "", 0),
    };
    let run = match mode {
        "check" => run_check,
        "time" => run_time,
        _ => {
            eprintln!("usage: arrow_peer check|time SERVER N");
            return ExitCode::from(3);
        }
    };
    let session = match Session::connect(server, "arrow-peer", &ClientOptions::new()) {
        Ok(session) => session,
        Err(e) => {
            eprintln!("arrow_peer: connect: {e}");
            return ExitCode::from(3);
        }
    };
    match run(&session, count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arrow_peer: {e}");
            ExitCode::FAILURE
        }
    }
}
