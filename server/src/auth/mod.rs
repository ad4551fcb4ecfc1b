//! Who may come in: the tokens of the tokens file (`tokens`), and the gate
//! that asks every request for one, or for a session the sign-in page gave
//! (`gate`).

pub mod gate;
pub mod tokens;
