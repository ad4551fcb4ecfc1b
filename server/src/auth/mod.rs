//! Who may come in: the tokens of the tokens file (`tokens`).

pub mod tokens;
