"""Shell scripts, read with tree-sitter-bash: commands, words and wrappers (`parser.parse`)."""
