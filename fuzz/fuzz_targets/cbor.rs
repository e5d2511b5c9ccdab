//! The strict CBOR reader of the KD1 hot path: skipping item after item over arbitrary bytes, and a sequence
//! of typed reads in any order, must end without a panic (and, for libFuzzer's timeout, quickly).

#![no_main]

use arbitrary::Arbitrary;
use kiemdich_pass::cbor::Reader;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Read {
    Tag,
    Array,
    Map,
    Bytes,
    Text,
    Int,
    Skip,
}

fuzz_target!(|input: (Vec<Read>, &[u8])| {
    let (reads, buf) = input;
    let mut r = Reader::new(buf);
    while !r.at_end() && r.skip().is_ok() {}

    // Reads go on after an error on purpose: the reader must stay sound whatever its caller does.
    let mut r = Reader::new(buf);
    for read in reads {
        let _ = match read {
            Read::Tag => r.tag().map(drop),
            Read::Array => r.array().map(drop),
            Read::Map => r.map().map(drop),
            Read::Bytes => r.bytes().map(drop),
            Read::Text => r.text().map(drop),
            Read::Int => r.int().map(drop),
            Read::Skip => r.skip(),
        };
    }
});
