"""The shopper's and the merchant's browser faces: the checkout widget, hosted checkout, console."""
