"""MLS wire messages (RFC 9420 §5.3, §6, §7.6, §10, §12): credentials, leaf nodes, key packages,
proposals, commits, UpdatePath, framing and welcome structures, external senders, the protocol
version — their encoding, decoding and signatures, nothing else.

They import only the codec layer (``codec``, ``errors``, ``extensions``, ``ext_codepoints``,
``group_context``, ``psk``) and ``suites``; protocol logic (TreeKEM, the key schedule, Welcome
encryption, framing) lives above them and imports them (``tests/test_architecture.py``).

Import the submodules directly (``from mls_pq.messages.leaf_node import LeafNode``); this
package does not re-export, so that concurrently written submodules stay independent.
"""
