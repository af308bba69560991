"""The app around the model and the view: state without GL (controller), panels, demo helpers.

studio/ may import ttm/ and viz/; neither imports studio/.
"""
