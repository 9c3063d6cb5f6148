//! The shared library is installed as `libfacegate.so`: give it that SONAME so programs
//! linked against the installed name find it at run time.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libfacegate.so");
    }
}
