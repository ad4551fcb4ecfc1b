//! moto's S3 server (`moto[server]`, in the venv of `cargo xtask test`),
//! started on a free port for one test and stopped when dropped, with the
//! client that fills its buckets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

/// Credentials moto takes (it checks none unless started by
/// [`Moto::checking_credentials`]); the region it answers in.
pub const ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "candela-test"),
    ("AWS_SECRET_ACCESS_KEY", "candela-test-secret"),
    ("AWS_REGION", "us-east-1"),
];

/// A running moto server, killed when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts `moto_server` from the test Python's venv on a free port.
    pub fn start() -> Moto {
        Moto::launch(&[])
    }

    /// Starts moto checking every request's credentials against its IAM,
    /// which knows none, after the first `unchecked` requests (to make
    /// buckets): a store whose credentials are all wrong.
    pub fn checking_credentials(unchecked: u32) -> Moto {
        Moto::launch(&[("INITIAL_NO_AUTH_ACTION_COUNT", &unchecked.to_string())])
    }

    fn launch(env: &[(&str, &str)]) -> Moto {
        let python = crate::python_with(&["moto"], "the object storage tests");
        let server = Path::new(&python).with_file_name("moto_server");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "moto did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// A client of `bucket`, made if missing.
    pub fn bucket(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        // moto makes a bucket for an unsigned PUT, which object_store cannot send.
        let address = self.endpoint.trim_start_matches("http://");
        let mut socket = TcpStream::connect(address).expect("connect to moto");
        write!(
            socket,
            "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .expect("request");
        let mut answer = String::new();
        socket.read_to_string(&mut answer).expect("answer");
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "cannot make bucket {bucket}: {answer}"
        );
        let [(_, key), (_, secret), (_, region)] = ENV;
        let store = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_region(region)
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .build()
            .expect("client");
        Arc::new(store)
    }

    /// Copies every file under `folder` to `prefix` of `store`.
    pub fn upload(store: &Arc<dyn ObjectStore>, folder: &Path, prefix: &str) -> usize {
        let files = files_under(folder);
        blocking(async {
            for file in &files {
                let relative = file.strip_prefix(folder).expect("inside");
                let key = ObjectPath::from(format!("{prefix}/{}", relative.display()));
                let bytes = std::fs::read(file).expect("read");
                store.put(&key, bytes.into()).await.expect("upload");
            }
        });
        files.len()
    }

    /// Deletes every object under `prefix` of `store`.
    pub fn delete(store: &Arc<dyn ObjectStore>, prefix: &str) {
        blocking(async {
            let prefix = ObjectPath::from(prefix);
            let listed: Vec<_> = store
                .list(Some(&prefix))
                .try_collect()
                .await
                .expect("listing");
            for object in listed {
                store.delete(&object.location).await.expect("delete");
            }
        });
    }

    /// Stops the server, as a store that goes down.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `work` to its end on a runtime of its own, on a thread of its own:
/// from a test's plain thread or from inside its async runtime alike.
fn blocking(work: impl Future<Output = ()> + Send) {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(work);
            })
            .join()
            .expect("storage work");
    });
}

fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(dir) = folders.pop() {
        for entry in std::fs::read_dir(&dir).expect("list").flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
