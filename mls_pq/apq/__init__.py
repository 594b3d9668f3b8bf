"""The APQ-MLS combiner (draft-ietf-mls-combiner): a component (id 0x0006) of the safe
extensions API of draft-ietf-mls-extensions, built on the suite- and component-agnostic engine."""
