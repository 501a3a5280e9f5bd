"""A notes app on gee.web: a JSON API plus an HTML page. Run: gee web examples.notes.app:app"""
