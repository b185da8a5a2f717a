//! An outside program: a lend-provider server and client in one process (the client
//! connects from a thread), one object lent across. Prints "outside: ok".
use std::time::Duration;

use shmipc::{ClientOptions, Provider, Server, ServerOptions, Session};

fn main() -> Result<(), shmipc::Error> {
    let name = format!("outside-{}", std::process::id());
    let server = Server::open(&name, &ServerOptions::new().provider(Provider::Lend))?;
    let client = {
        let name = name.clone();
        std::thread::spawn(move || Session::connect(&name, "outside", &ClientOptions::new()))
    };
    let owner = server.accept(Some(Duration::from_secs(10)))?;
    let client = client.join().expect("the client thread")?;
    let mut obj = owner.arena().new_object(4096)?;
    obj[..5].copy_from_slice(b"hello");
    owner.send_with(b"lent", &obj.into_read_only())?; // frozen: lent, written no more
    let mut buf = [0u8; 16];
    let msg = client.recv(&mut buf, Some(Duration::from_secs(10)))?;
    assert_eq!(&msg.object.expect("an object")[..5], b"hello");
    assert_eq!(client.provider(), Provider::Lend);
    println!("outside: ok (shmipc {})", shmipc::version());
    Ok(())
}
