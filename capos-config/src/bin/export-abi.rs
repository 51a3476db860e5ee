//! Prints the ring layout and protocol constants as a JavaScript module
//! (`build/site/generated/abi.js`): JavaScript never retypes them.

fn main() {
    print!("{}", capos_config::js::layout_module());
}
