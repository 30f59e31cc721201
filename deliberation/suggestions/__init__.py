"""Villagers' suggestions of topics (议题建议, issue 27): filing and correcting
(:mod:`.filing`), reading (:mod:`.read`), similar titles (:mod:`.similar`); supports
and screening in :mod:`.support` and :mod:`.screening`."""
