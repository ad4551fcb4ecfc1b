//! Damaged and hostile bar files, made from valid ones written by the parquet
//! crate (every codec, both page versions, plain, dictionary, delta and
//! byte-stream-split encodings, small and large pages, optional columns):
//! bytes flipped, cut short, spliced or overwritten, and footers re-encoded
//! with false claims (row counts of 2^40 and -5, row groups that disagree
//! with the file or their pages, chunks outside the file, level runs above
//! their bit width). Every case must end in bars or in a clean error naming
//! the file: never a panic, an abort or a hang.
//!
//! `HOSTILE_BARS_CASES=100000 cargo test --workspace --test hostile_bars -- --nocapture`
//! runs longer; `HOSTILE_BARS_KEEP=DIR` keeps every file that failed there,
//! to be added to the corpus in `tests/fixtures/bars-hostile`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use candela_core::load::{LoadError, Problem, StoredSeries, TimeWindow};
use candela_core::storage::{Bucket, ObjectPath, StorageSettings, StoredFile, StoredObject};
use candela_core::synthetic::continuous_minutes;
use candela_core::{BarFrame, Timeframe};
use candela_mutation::Mutator;
use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, Encoding};
use datafusion::parquet::file::metadata::{
    ColumnChunkMetaDataBuilder as ChunkBuilder, ParquetMetaData, ParquetMetaDataReader,
    ParquetMetaDataWriter, RowGroupMetaData,
};
use datafusion::parquet::file::properties::{WriterProperties, WriterVersion};
use datafusion::parquet::schema::types::ColumnPath;
use object_store::ObjectStoreExt;
use object_store::memory::InMemory;

const ROWS: usize = 3_000;

/// A window inside the bars of every case (they start on 2020-01-01 UTC):
/// its second third.
const WINDOW: TimeWindow = TimeWindow {
    from: 1_577_836_800_000_000_000 + 1_000 * 60_000_000_000,
    to: 1_577_836_800_000_000_000 + 2_000 * 60_000_000_000,
};

/// A false claim about one column chunk.
type ChunkChange = Box<dyn Fn(ChunkBuilder) -> ChunkBuilder>;

/// Longer than any case should take, even on a slow machine.
const SLOW: Duration = Duration::from_secs(5);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// How a valid seed file is written.
struct Layout {
    name: &'static str,
    compression: Compression,
    version: WriterVersion,
    dictionary: bool,
    /// Rows per data page; `None` for the writer's default (one page per
    /// column here).
    page_rows: Option<usize>,
    /// Delta-encoded times and byte-stream-split prices.
    special_encodings: bool,
}

fn layouts() -> Vec<Layout> {
    let plain = |name, compression| Layout {
        name,
        compression,
        version: WriterVersion::PARQUET_1_0,
        dictionary: true,
        page_rows: Some(500),
        special_encodings: false,
    };
    vec![
        plain("snappy", Compression::SNAPPY),
        plain("zstd", Compression::ZSTD(Default::default())),
        plain("gzip", Compression::GZIP(Default::default())),
        plain("lz4", Compression::LZ4_RAW),
        plain("brotli", Compression::BROTLI(Default::default())),
        // Small v1 pages, uncompressed: the definition levels of the
        // optional column lie bare, for the level-run cases.
        Layout {
            page_rows: Some(100),
            dictionary: false,
            ..plain("none", Compression::UNCOMPRESSED)
        },
        Layout {
            version: WriterVersion::PARQUET_2_0,
            dictionary: false,
            special_encodings: true,
            ..plain("v2-delta-split", Compression::SNAPPY)
        },
        Layout {
            version: WriterVersion::PARQUET_2_0,
            page_rows: None,
            ..plain("v2-zstd-one-page", Compression::ZSTD(Default::default()))
        },
    ]
}

/// Bars with an optional `open` (missing from row 1,000 on, one row in 7)
/// and an integer `volume`.
fn batch() -> RecordBatch {
    let frame = continuous_minutes(ROWS, 3);
    let open: Float64Array = frame
        .open()
        .iter()
        .enumerate()
        .map(|(row, &v)| (row < 1_000 || row % 7 != 0).then_some(v))
        .collect();
    let volume: Int64Array = frame.volume().iter().map(|&v| Some(v as i64)).collect();
    let batch = frame.record_batch();
    let columns: Vec<ArrayRef> = vec![
        batch.column(0).clone(),
        Arc::new(open),
        batch.column(2).clone(),
        batch.column(3).clone(),
        batch.column(4).clone(),
        Arc::new(volume),
    ];
    let schema = Schema::new(vec![
        Field::new("timestamp", batch.column(0).data_type().clone(), false),
        Field::new("open", DataType::Float64, true),
        Field::new("high", DataType::Float64, false),
        Field::new("low", DataType::Float64, false),
        Field::new("close", DataType::Float64, false),
        Field::new("volume", DataType::Int64, false),
    ]);
    RecordBatch::try_new(Arc::new(schema), columns).expect("batch")
}

fn write(batch: &RecordBatch, layout: &Layout) -> Vec<u8> {
    let mut properties = WriterProperties::builder()
        .set_compression(layout.compression)
        .set_writer_version(layout.version)
        .set_dictionary_enabled(layout.dictionary)
        .set_max_row_group_row_count(Some(1_200));
    if let Some(rows) = layout.page_rows {
        properties = properties
            .set_data_page_row_count_limit(rows)
            .set_write_batch_size(rows);
    }
    if layout.special_encodings {
        properties = properties
            .set_column_encoding(ColumnPath::from("timestamp"), Encoding::DELTA_BINARY_PACKED)
            .set_column_encoding(ColumnPath::from("volume"), Encoding::DELTA_BINARY_PACKED)
            .set_encoding(Encoding::BYTE_STREAM_SPLIT);
    }
    let mut bytes = Vec::new();
    let mut writer =
        ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties.build())).expect("writer");
    writer.write(batch).expect("write");
    writer.close().expect("close");
    bytes
}

/// A data root holding one series of one file, rewritten for every case:
/// in a folder, and in a bucket (an in-memory object store, read by ranges).
struct Case {
    root: tempfile::TempDir,
    path: PathBuf,
    bucket: Arc<Bucket>,
}

/// Where the case's file is.
const CASE_FILE: &str = "FUZZ/BARS/1m/bars.parquet";

impl Case {
    fn new() -> Case {
        let root = tempfile::tempdir().expect("tempdir");
        let path = root.path().join(CASE_FILE);
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        let store = Arc::new(InMemory::new());
        let bucket = Bucket::with_store(
            "memory://fuzz".into(),
            store,
            ObjectPath::default(),
            &StorageSettings::default(),
        )
        .expect("bucket");
        Case {
            root,
            path,
            bucket: Arc::new(bucket),
        }
    }

    /// Reads `bytes` as the series from the folder and from the bucket;
    /// the folder's outcome. A panic or a hang of either is the only
    /// failure; any error must name the file, and both must read the same
    /// bars where both read any.
    fn read(&self, bytes: &[u8]) -> Result<Result<BarFrame, LoadError>, String> {
        std::fs::write(&self.path, bytes).expect("write case");
        let from_folder = Case::outcome(&StoredFile::Path(self.path.clone()), self.root.path())?;
        let key = ObjectPath::from(CASE_FILE);
        let payload = bytes::Bytes::copy_from_slice(bytes);
        let put = futures::executor::block_on(self.bucket.store().put(&key, payload.into()))
            .expect("put case");
        let object = StoredFile::Object(StoredObject {
            bucket: Arc::clone(&self.bucket),
            key,
            size: bytes.len() as u64,
            e_tag: put.e_tag,
        });
        let from_bucket = Case::outcome(&object, Path::new(""))?;
        if let (Ok(folder), Ok(bucket)) = (&from_folder, &from_bucket)
            && folder.record_batch() != bucket.record_batch()
        {
            return Err("the bucket read other bars than the folder".into());
        }
        Ok(from_folder)
    }

    fn outcome(file: &StoredFile, root: &Path) -> Result<Result<BarFrame, LoadError>, String> {
        let files = [file.clone()];
        let series = StoredSeries::new(&files, chrono_tz::America::New_York, root);
        // The series' stop (never requested here) is not unwind-safe.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let hourly: Timeframe = "1h".parse().expect("timeframe");
            let aggregated = series.load_aggregated(hourly);
            let whole = series.load();
            if let (Ok(whole), Ok(aggregated)) = (&whole, &aggregated) {
                assert!(aggregated.len() <= whole.len(), "no more bins than bars");
            }
            // A window read trusts the row groups' statistics, which a
            // mutation may have made lie: it must end, cleanly, that is all.
            if let Err(error) = series.load_window(WINDOW)
                && !error.to_string().starts_with("FUZZ/BARS/1m")
            {
                panic!("a window's error that does not name the file: {error}");
            }
            whole
        }));
        let outcome = outcome.map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "a panic".to_owned())
        })?;
        if let Err(error) = &outcome
            && !error.to_string().starts_with("FUZZ/BARS/1m")
        {
            return Err(format!("an error that does not name the file: {error}"));
        }
        Ok(outcome)
    }
}

/// The footer of `bytes` decoded, and where it starts.
fn footer(bytes: &[u8]) -> (ParquetMetaData, usize) {
    let length = bytes.len();
    let footer_len = u32::from_le_bytes(bytes[length - 8..length - 4].try_into().expect("4 bytes"));
    let start = length - 8 - footer_len as usize;
    let file = tempfile::NamedTempFile::new().expect("tempfile");
    std::fs::write(file.path(), bytes).expect("write");
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&File::open(file.path()).expect("open"))
        .expect("a valid footer");
    (metadata, start)
}

/// `bytes` with its footer replaced by `metadata`, re-encoded.
fn with_footer(bytes: &[u8], start: usize, metadata: &ParquetMetaData) -> Vec<u8> {
    let mut out = bytes[..start].to_vec();
    ParquetMetaDataWriter::new(&mut out, metadata)
        .finish()
        .expect("encode footer");
    out
}

/// The footer with row group `index` changed by `change`.
fn row_group(
    metadata: &ParquetMetaData,
    index: usize,
    change: impl Fn(RowGroupMetaData) -> RowGroupMetaData,
) -> ParquetMetaData {
    let mut groups = metadata.row_groups().to_vec();
    groups[index] = change(groups[index].clone());
    ParquetMetaData::new(metadata.file_metadata().clone(), groups)
}

/// The footer with column `column` of row group `index` changed by `change`.
fn column_chunk(
    metadata: &ParquetMetaData,
    index: usize,
    column: usize,
    change: impl Fn(ChunkBuilder) -> ChunkBuilder,
) -> ParquetMetaData {
    row_group(metadata, index, |group| {
        let mut columns = group.columns().to_vec();
        columns[column] = change(columns[column].clone().into_builder())
            .build()
            .expect("column chunk");
        group
            .into_builder()
            .set_column_metadata(columns)
            .build()
            .expect("row group")
    })
}

/// Footers that claim what the file does not hold, each named.
fn false_footers(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let (metadata, start) = footer(bytes);
    let groups = metadata.row_groups().len();
    let group_rows = metadata.row_groups()[0].num_rows();
    let set_rows = |n: i64| {
        move |g: RowGroupMetaData| g.into_builder().set_num_rows(n).build().expect("group")
    };
    let mut footers = vec![
        (
            // The writer then claims the sum, 2^40 more than the pages hold.
            "group rows 2^40".to_owned(),
            row_group(&metadata, 0, set_rows(1 << 40)),
        ),
        (
            "group rows -5".to_owned(),
            row_group(&metadata, 0, set_rows(-5)),
        ),
        (
            // Pages longer than their group: the claimed rows are read.
            "group shorter than its pages".to_owned(),
            row_group(&metadata, 0, set_rows(group_rows / 2)),
        ),
        (
            "group longer than its pages".to_owned(),
            row_group(&metadata, groups - 1, set_rows(group_rows * 3)),
        ),
    ];
    for column in [0, 1, 5] {
        let chunk = &metadata.row_groups()[0].columns()[column];
        let offset = chunk.data_page_offset();
        let other =
            metadata.row_groups()[groups - 1].columns()[(column + 2) % 6].data_page_offset();
        let claims: Vec<(&str, ChunkChange)> = vec![
            ("offset -1", Box::new(|c| c.set_data_page_offset(-1))),
            (
                "size 2^40",
                Box::new(|c| c.set_total_compressed_size(1 << 40)),
            ),
            ("size -9", Box::new(|c| c.set_total_compressed_size(-9))),
            ("values 2^40", Box::new(|c| c.set_num_values(1 << 40))),
            (
                "offset into another chunk",
                Box::new(move |c| c.set_data_page_offset(other)),
            ),
            (
                "offset inside its first page",
                Box::new(move |c| {
                    c.set_data_page_offset(offset + 3)
                        .set_dictionary_page_offset(None)
                }),
            ),
        ];
        for (what, change) in claims {
            footers.push((
                format!("column {column} {what}"),
                column_chunk(&metadata, 0, column, change),
            ));
        }
    }
    let mut files: Vec<(String, Vec<u8>)> = footers
        .into_iter()
        .map(|(what, metadata)| (what, with_footer(bytes, start, &metadata)))
        .collect();
    // The file's own row count, which the footer writer would recompute.
    let list = [(groups as u8) << 4 | 0x0c];
    for (what, rows) in [
        ("rows 2^40", 1 << 40),
        ("rows -5", -5),
        ("rows one more", ROWS as i64 + 1),
    ] {
        files.push((
            what.to_owned(),
            row_fields(bytes, start, groups, rows, &list),
        ));
    }
    let count = [0xfc, 0xff, 0xff, 0xff, 0xff, 0x07];
    files.push((
        "2^31 - 1 row groups".to_owned(),
        row_fields(bytes, start, groups, ROWS as i64, &count),
    ));
    files
}

/// The footer with its row count (field 3, an i64) set to `rows` and the
/// header of its list of row groups (field 4) replaced by `list`, encoded by
/// hand: in the compact protocol, `0x16` then a zigzag varint, `0x19` then
/// `count << 4 | 0x0c` (structs) for fewer than 15 entries.
fn row_fields(bytes: &[u8], start: usize, groups: usize, rows: i64, list: &[u8]) -> Vec<u8> {
    let varint = |value: i64| {
        let mut zigzag = ((value << 1) ^ (value >> 63)) as u64;
        let mut out = Vec::new();
        while zigzag >= 0x80 {
            out.push((zigzag as u8 & 0x7f) | 0x80);
            zigzag >>= 7;
        }
        out.push(zigzag as u8);
        out
    };
    let fields = |rows: i64, list: &[u8]| {
        let mut out = vec![0x16];
        out.extend(varint(rows));
        out.push(0x19);
        out.extend_from_slice(list);
        out
    };
    let pattern = fields(ROWS as i64, &[(groups as u8) << 4 | 0x0c]);
    let footer_end = bytes.len() - 8;
    let at = start
        + bytes[start..footer_end]
            .windows(pattern.len())
            .position(|w| w == pattern)
            .expect("the row group list follows the row count");
    let mut out = bytes[..at].to_vec();
    out.extend(fields(rows, list));
    out.extend_from_slice(&bytes[at + pattern.len()..footer_end]);
    let footer_len = u32::try_from(out.len() - start).expect("footer length");
    out.extend(footer_len.to_le_bytes());
    out.extend(b"PAR1");
    out
}

/// Definition-level runs of the optional column made false in its first
/// page: a level above the column's bit width, and runs longer than the
/// page. The seed must be uncompressed v1 pages of 100 rows, whose first
/// pages hold no missing value: one run of 100 ones, `03 00 00 00 c8 01 01`
/// (its length, then the run's header and value).
fn false_level_runs(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    const RUN: [u8; 7] = [0x03, 0x00, 0x00, 0x00, 0xc8, 0x01, 0x01];
    let at = bytes
        .windows(RUN.len())
        .position(|w| w == RUN)
        .expect("the seed's first page holds one run of 100 present values");
    let patches: [(&str, usize, u8); 5] = [
        ("level 3 at bit width 1", 6, 0x03),
        ("level 255 at bit width 1", 6, 0xff),
        ("run of 127 in a page of 100", 4, 0xfe),
        ("bit-packed run past the page", 4, 0xc9),
        ("levels longer than the page", 0, 0xf3),
    ];
    patches
        .into_iter()
        .map(|(what, offset, value)| {
            let mut out = bytes.to_vec();
            out[at + offset] = value;
            (what.to_owned(), out)
        })
        .collect()
}

/// What happened to a case: read, refused (and why), or a failure.
#[derive(Default)]
struct Tally {
    read: usize,
    refused: std::collections::BTreeMap<&'static str, usize>,
    failures: Vec<String>,
    slowest: (Duration, String),
}

impl Tally {
    fn record(
        &mut self,
        case: &Case,
        what: String,
        bytes: &[u8],
    ) -> Option<Result<usize, Problem>> {
        let started = Instant::now();
        let outcome = case.read(bytes);
        let elapsed = started.elapsed();
        if elapsed > self.slowest.0 {
            self.slowest = (elapsed, what.clone());
        }
        // A few milliseconds is the norm: seconds mean a hang in the making.
        let outcome = match outcome {
            Ok(_) if elapsed > SLOW => Err(format!("took {elapsed:?}")),
            outcome => outcome,
        };
        match outcome {
            Ok(Ok(bars)) => {
                self.read += 1;
                Some(Ok(bars.len()))
            }
            Ok(Err(error)) => {
                *self.refused.entry(kind(&error.problem)).or_default() += 1;
                Some(Err(error.problem))
            }
            Err(failure) => {
                if let Some(dir) = std::env::var_os("HOSTILE_BARS_KEEP") {
                    let name = what.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
                    let _ = std::fs::create_dir_all(&dir);
                    let _ = std::fs::write(Path::new(&dir).join(format!("{name}.parquet")), bytes);
                }
                self.failures.push(format!("{what}: {failure}"));
                None
            }
        }
    }
}

fn kind(problem: &Problem) -> &'static str {
    match problem {
        Problem::Unreadable(_) => "unreadable",
        Problem::FalseClaim(_) => "false claim",
        Problem::ShortColumn { .. } => "short column",
        Problem::TooManyRows { .. } => "too many rows",
        Problem::OutOfMemory(_) => "out of memory",
        Problem::MissingColumn(..) | Problem::NoTimeColumn(_) => "missing column",
        Problem::WrongType(..) => "wrong type",
        Problem::NullTimes => "null times",
        Problem::TimeOutOfRange => "time out of range",
        Problem::DecoderPanicked(_) => "decoder panicked (caught)",
        Problem::Stopped => "stopped",
        Problem::Storage(_) => "storage failed",
    }
}

#[test]
fn damaged_and_hostile_bar_files_end_in_bars_or_a_clean_error() {
    let cases: usize = std::env::var("HOSTILE_BARS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000);
    let batch = batch();
    let seeds: Vec<(&str, Vec<u8>)> = layouts()
        .iter()
        .map(|layout| (layout.name, write(&batch, layout)))
        .collect();
    let case = Case::new();
    let open = batch.column(1).as_any().downcast_ref::<Float64Array>();
    let open = open.expect("open is f64");
    for (name, bytes) in &seeds {
        let bars = case
            .read(bytes)
            .expect("no panic")
            .expect("a valid seed reads");
        assert_eq!(bars.len(), ROWS, "{name}");
        let same = bars
            .open()
            .iter()
            .zip(open.iter())
            .all(|(read, written)| read.to_bits() == written.unwrap_or(f64::NAN).to_bits());
        assert!(same, "{name}: open as written, NaN where missing");
        assert!(bars.volume().iter().all(|v| v.fract() == 0.0), "{name}");
    }

    let mut tally = Tally::default();
    let mut targeted = Vec::new();
    for (name, bytes) in &seeds {
        for (what, bytes) in false_footers(bytes) {
            targeted.push((format!("{name}: {what}"), bytes));
        }
    }
    let uncompressed = &seeds
        .iter()
        .find(|(name, _)| *name == "none")
        .expect("seed")
        .1;
    for (what, bytes) in false_level_runs(uncompressed) {
        targeted.push((format!("none: {what}"), bytes));
    }
    let must_refuse = [
        "rows 2^40",
        "rows -5",
        "rows one more",
        "group rows 2^40",
        "group rows -5",
        "group longer than its pages",
        "offset -1",
        "size 2^40",
        "size -9",
        "row groups",
    ];
    for (what, bytes) in &targeted {
        let outcome = tally.record(&case, what.clone(), bytes);
        if must_refuse.iter().any(|claim| what.ends_with(claim))
            && let Some(Ok(bars)) = outcome
        {
            tally
                .failures
                .push(format!("{what}: served as {bars} bars instead of refused"));
        }
    }

    let mut mutator = Mutator::new(21);
    for index in 0..cases {
        let (name, seed) = &seeds[index % seeds.len()];
        let other = &seeds[(index + 1) % seeds.len()].1;
        let start = mutator.seed();
        // One case in four damages a file whose footer already lies.
        let base = if index % 4 == 3 {
            &targeted[mutator.below(targeted.len())].1
        } else {
            seed
        };
        let (damaged, mutation) = mutator.mutate(base, other);
        let what = format!("{name}: {mutation} (case {index}, seed {start})");
        tally.record(&case, what, &damaged);
    }

    println!(
        "{} seeds, {} false claims, {cases} mutations: {} read, refused {:?}; slowest {:?} ({})",
        seeds.len(),
        targeted.len(),
        tally.read,
        tally.refused,
        tally.slowest.0,
        tally.slowest.1
    );
    assert!(
        tally.failures.is_empty(),
        "{} cases failed (HOSTILE_BARS_KEEP=DIR keeps their files):\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    let refused: usize = tally.refused.values().sum();
    assert!(refused > cases / 4, "most damage is noticed ({refused})");
}

/// Files that were once read wrongly, crashed the reader or held it for
/// seconds: each is now a clean error naming the file, given at once.
#[test]
fn files_that_once_failed_end_in_a_clean_error() {
    let corpus = repo().join("tests/fixtures/bars-hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "parquet"))
        .collect();
    // Found by the run files' mutation test: its embedded Arrow schema
    // once panicked inside arrow-ipc.
    files.push(repo().join("tests/fixtures/runs-hostile/damaged-arrow-schema/trades.parquet"));
    let case = Case::new();
    let mut seen = 0;
    for path in files {
        let bytes = std::fs::read(&path).expect("read");
        let started = Instant::now();
        let outcome = case.read(&bytes);
        let elapsed = started.elapsed();
        assert!(elapsed < SLOW, "{}: took {elapsed:?}", path.display());
        match outcome {
            Ok(Err(_)) => seen += 1,
            Ok(Ok(bars)) => panic!("{}: read as {} bars", path.display(), bars.len()),
            Err(failure) => panic!("{}: {failure}", path.display()),
        }
    }
    assert!(seen > 1, "the corpus is there");
}

/// `HOSTILE_BARS_FILE=PATH cargo test --workspace --test hostile_bars replay -- --nocapture`
/// reads one kept file and says what became of it.
#[test]
fn replay() {
    let Some(path) = std::env::var_os("HOSTILE_BARS_FILE") else {
        return;
    };
    let bytes = std::fs::read(&path).expect("the file to replay");
    let started = Instant::now();
    let outcome = Case::new().read(&bytes);
    println!(
        "{:?}: {:?}",
        started.elapsed(),
        outcome.map(|read| read.map(|bars| bars.len()))
    );
}
