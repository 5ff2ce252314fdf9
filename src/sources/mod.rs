//! IO that produces Msgs.
