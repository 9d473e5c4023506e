"""photos: the city catalog, the photos people swipe on, and the way photos enter the deck."""
