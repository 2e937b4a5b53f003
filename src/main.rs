fn main() {
    std::process::exit(nxr::cli::main());
}
