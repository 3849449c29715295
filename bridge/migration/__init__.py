"""The migration workflow: linked accounts, progress, cut-over and handing rooms over."""
