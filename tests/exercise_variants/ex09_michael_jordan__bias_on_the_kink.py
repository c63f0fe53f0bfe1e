def fact_neuron(michael, jordan, basketball):
    return michael + jordan, -1.0, basketball          # the lecture's first try: single names sit on the kink
