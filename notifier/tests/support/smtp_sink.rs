//! A tiny SMTP server for tests: accepts every message and keeps its raw text. It can be
//! told to refuse (451) to simulate an outage.
//!
//! It acknowledges TCP segments at once (`TCP_QUICKACK`): lettre writes a message's body and
//! its final `.` separately, and with Nagle's algorithm on the client and delayed ACKs on the
//! server every message would otherwise wait ~40 ms for the ACK.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<Vec<u8>>>>,
    pub refuse: Arc<AtomicBool>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            messages: Arc::default(),
            refuse: Arc::default(),
        };
        let accepting = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let session = accepting.clone();
                tokio::spawn(async move {
                    let _ = session.serve(socket).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Vec<u8>> {
        self.messages.lock().unwrap().clone()
    }

    async fn serve(&self, socket: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink ESMTP ready\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            quick_ack(&lines);
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            if command.starts_with("EHLO") {
                write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
            } else if command.starts_with("HELO") {
                write.write_all(b"250 sink\r\n").await?;
            } else if command.starts_with("MAIL FROM") {
                if self.refuse.load(Ordering::SeqCst) {
                    write.write_all(b"451 try again later\r\n").await?;
                } else {
                    write.write_all(b"250 OK\r\n").await?;
                }
            } else if command.starts_with("DATA") {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    quick_ack(&lines);
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(()); // dropped mid-message: not delivered
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(unstuffed.as_bytes());
                }
                self.messages.lock().unwrap().push(data);
                write.write_all(b"250 OK queued\r\n").await?;
            } else if command.starts_with("QUIT") {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"250 OK\r\n").await?;
            }
        }
    }
}

fn quick_ack(reader: &BufReader<tokio::net::tcp::OwnedReadHalf>) {
    let stream: &TcpStream = reader.get_ref().as_ref();
    let _ = socket2::SockRef::from(stream).set_tcp_quickack(true);
}
