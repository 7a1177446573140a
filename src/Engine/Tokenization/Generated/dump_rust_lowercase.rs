// Prints Rust std char::to_lowercase for every char it changes (input 2 of generate_tables.py).
// rustc -O dump_rust_lowercase.rs && ./dump_rust_lowercase > rust-lowercase.txt
use std::io::Write;
fn main() {
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for cp in 0u32..=0x10FFFF {
        if let Some(c) = char::from_u32(cp) {
            let l: Vec<u32> = c.to_lowercase().map(|x| x as u32).collect();
            if !(l.len() == 1 && l[0] == cp) {
                write!(out, "{:X}:", cp).unwrap();
                for x in &l { write!(out, " {:X}", x).unwrap(); }
                writeln!(out).unwrap();
            }
        }
    }
    let ws: Vec<String> = (0u32..=0x10FFFF).filter_map(char::from_u32).filter(|c| c.is_whitespace()).map(|c| format!("{:X}", c as u32)).collect();
    eprintln!("WS {}", ws.join(" "));
    eprintln!("unicode {:?}", char::UNICODE_VERSION);
}
