//! C2SP signed notes and checkpoints (to be written).
