//! A Rust program that loads libshmipc with `dlopen` after start-up, with no environment
//! variable for the loader, and serves a lend session with it: the module
//! `tests/helper_dlopen` of the Autotools build links the shared libshmipc (whose jemalloc is
//! built in, with no initial-exec TLS). `make check-rust` names it in
//! `SHMIPC_DLOPEN_MODULE`; without that variable the test has nothing to load and passes.

use std::ffi::{c_char, c_int, CStr, CString};

type LendFn = unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> c_int;

#[test]
fn libshmipc_loaded_after_start_up_serves_a_lend_session() {
    let Some(module) = std::env::var_os("SHMIPC_DLOPEN_MODULE") else {
        eprintln!("SHMIPC_DLOPEN_MODULE is not set (make check-rust sets it): nothing to load");
        return;
    };
    let dir = std::env::temp_dir().join(format!("shmipc-dlopen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a socket directory");
    std::env::set_var("SHMIPC_SOCKET_DIR", &dir);
    let path = CString::new(module.into_encoded_bytes()).expect("a path");
    // SAFETY: a C module of this tree; its one function has the signature of LendFn.
    unsafe {
        let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(
            !handle.is_null(),
            "dlopen: {}",
            CStr::from_ptr(libc::dlerror()).to_string_lossy()
        );
        let sym = libc::dlsym(handle, c"helper_dlopen_lend".as_ptr());
        assert!(!sym.is_null(), "the module has no helper_dlopen_lend");
        let lend: LendFn = std::mem::transmute(sym);
        let mut why = [0 as c_char; 1024];
        let rc = lend(c"rust-dlopen".as_ptr(), why.as_mut_ptr(), why.len());
        let why = CStr::from_ptr(why.as_ptr()).to_string_lossy();
        assert_eq!(rc, 0, "a lend session in the loaded libshmipc: {why}");
    }
    std::fs::remove_dir(&dir).expect("nothing left in the socket directory");
}
