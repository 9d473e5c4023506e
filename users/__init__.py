"""users: profiles (guests included), swipes, running per-city scores and recommendations."""
