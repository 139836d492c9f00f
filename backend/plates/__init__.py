"""QR door plates (门牌二维码): issuing, revoking, printing and verifying the plates at elders' homes."""
