public enum TorsionTestingPlaceholder {}
