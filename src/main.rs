fn main() {
    println!("samizdat");
}
