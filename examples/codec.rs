//! A line protocol server on tokio-util's `Framed<_, LinesCodec>` over sock: `codec
//! [--listen 127.0.0.1:7000] [--max-line 1024]`. Each line is answered with one line:
//! `PING` → `PONG`, `ECHO text` → `text`, anything else → `ERR unknown command`; a line
//! over `--max-line` bytes gets `ERR line too long` and ends that connection. Serves
//! until killed; try it with `nc 127.0.0.1 7000`.

use sock_examples::args::{flag, host_port};

fn main() -> sock::Result<()> {
    let (host, port) = host_port(&flag("--listen", "127.0.0.1:7000"));
    let max_line: usize = flag("--max-line", "1024")
        .parse()
        .expect("--max-line takes a number of bytes");
    sock::run(async move {
        let listener = sock_examples::serve::listener(&host, port)?;
        let addr = listener.local_addr()?;
        println!("codec on {addr}, lines up to {max_line} bytes");
        sock_examples::codec::serve(listener, max_line).await
    })
}
