//! IO that acts on a cluster; each answers with a Msg.
