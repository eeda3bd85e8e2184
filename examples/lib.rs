//! Shared bits for the examples (argument parsing). The examples themselves sit beside this file.
