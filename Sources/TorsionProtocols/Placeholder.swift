public enum TorsionProtocolsPlaceholder {}
