//! arrow_consumer — the Rust end of examples/arrow: connects to SERVER (producer.py),
//! receives Arrow tables, reads each in place (no byte of the columns is copied) and
//! answers with a summary: "ROWS rows, COLUMNS columns, sum(COLUMN)=..." for each numeric
//! column. Stops at the message "end".
//!
//!   arrow_consumer SERVER

use std::process::ExitCode;
use std::time::Duration;

use shmipc::arrow::arrow_array::cast::AsArray;
use shmipc::arrow::arrow_array::types::{Float64Type, Int64Type};
use shmipc::arrow::arrow_array::RecordBatch;
use shmipc::arrow::arrow_schema::DataType;
use shmipc::{ClientOptions, Session};

/// "ROWS rows, COLUMNS columns" and the sum of each float64 and int64 column.
fn summary(batches: &[RecordBatch]) -> String {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let Some(first) = batches.first() else {
        return "no batch".into();
    };
    let mut text = format!("{rows} rows, {} columns", first.num_columns());
    for (i, field) in first.schema().fields().iter().enumerate() {
        let sum: Option<f64> = match field.data_type() {
            DataType::Float64 => Some(
                batches
                    .iter()
                    .flat_map(|b| b.column(i).as_primitive::<Float64Type>().iter().flatten())
                    .sum(),
            ),
            DataType::Int64 => Some(
                batches
                    .iter()
                    .flat_map(|b| b.column(i).as_primitive::<Int64Type>().iter().flatten())
                    .map(|v| v as f64)
                    .sum(),
            ),
            _ => None,
        };
        if let Some(sum) = sum {
            text += &format!(", sum({})={sum:?}", field.name());
        }
    }
    text
}

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let Some(server) = std::env::args().nth(1) else {
        eprintln!("usage: arrow_consumer SERVER");
        return Ok(ExitCode::from(3));
    };
    let session = Session::connect(&server, "arrow-consumer", &ClientOptions::new())?;
    let mut buf = [0u8; 64];
    loop {
        let msg = session.recv(&mut buf, Some(Duration::from_secs(60)))?;
        if &buf[..msg.len] == b"end" {
            return Ok(ExitCode::SUCCESS);
        }
        let Some(obj) = msg.object else {
            return Err("a table message came without an object".into());
        };
        // In place: the batches' buffers point into the object, which they keep alive.
        let batches = shmipc::arrow::read(obj)?;
        let text = summary(&batches);
        println!("{text}");
        session.send(
            text.as_bytes()
                .get(..shmipc::MSG_MAX)
                .unwrap_or(text.as_bytes()),
        )?;
    }
}
