//! `cargo xtask`: the project's automation (being built).

fn main() {
    eprintln!("xtask: no tasks yet");
    std::process::exit(1);
}
