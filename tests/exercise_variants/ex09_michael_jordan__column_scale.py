def fact_neuron(michael, jordan, basketball):
    return michael + jordan, -1.5, basketball          # the pair gives 0.5, so it adds half a basketball
