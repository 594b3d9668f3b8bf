"""Code points of draft-ietf-mls-extensions (editors' copy 2026-07-01, §7 IANA Considerations),
in one place. All values are the draft's *suggested* values: IANA has not assigned them yet.

Section numbers used across the package for this draft (the draft's own numbering):
§4.1 Component IDs, §4.2 HPKE keys, §4.3 signature keys, §4.4 Exported Secrets, §4.5 PSKs,
§4.6 Attaching Application Data (app_data_dictionary), §4.7 Updating Application Data
(AppDataUpdate), §4.8 AppEphemeral, §4.9 Safe AAD, §5 Negotiating Extensions and Components,
§7.1 extension types, §7.2 proposal types, §7.5 MLS Component Types.
"""

from __future__ import annotations

from typing import Final

DRAFT: Final = "draft-ietf-mls-extensions"

# §7.1 MLS Extension Types
APP_DATA_DICTIONARY: Final = 0x0006  #: KP, LN, GC, GI
SUPPORTED_WIRE_FORMATS: Final = 0x0007  #: LN
REQUIRED_WIRE_FORMATS: Final = 0x0008  #: GC

# §7.2 MLS Proposal Types
APP_DATA_UPDATE: Final = 0x0008  #: External: Y, Path Required: N
APP_EPHEMERAL: Final = 0x0009  #: External: Y, Path Required: N
SELF_REMOVE: Final = 0x000A  #: External: N, Path Required: Y

# §4.5 PSKType
PSK_APPLICATION: Final = 3

# §7.5 MLS Component Types (initial contents)
COMPONENT_RESERVED: Final = 0x0000
COMPONENT_APP_COMPONENTS: Final = 0x0001  #: LN, GC
COMPONENT_SAFE_AAD: Final = 0x0002  #: LN, GC
COMPONENT_CONTENT_MEDIA_TYPES: Final = 0x0003  #: LN, GC
COMPONENT_LAST_RESORT_KEY_PACKAGE: Final = 0x0004  #: KP
COMPONENT_APP_ACK: Final = 0x0005  #: AE
#: §7.5 GREASE component ids (0x0A0A, 0x1A1A, ..., 0x7A7A)
COMPONENT_GREASE: Final = frozenset(0x0A0A + 0x1010 * i for i in range(8))
#: §7.5: 0x8000-0xFFFF are for private use
PRIVATE_USE_MIN: Final = 0x8000

#: §4.1: the fixed ``base_label`` of ComponentOperationLabel
COMPONENT_BASE_LABEL: Final = b"MLS Component"
#: §4.4: label of application_export_secret in the key schedule (Table 4 of RFC 9420 style)
APPLICATION_EXPORT_LABEL: Final = "application_export"
